use relata::{Entity, Key};

#[derive(Entity, Clone, Debug, PartialEq)]
struct User {
    name: String,
}

// 33 foreign keys: one more than an entity may have.
#[derive(Entity, Clone, Debug, PartialEq)]
struct Wide {
    k0: Key<User>,
    k1: Key<User>,
    k2: Key<User>,
    k3: Key<User>,
    k4: Key<User>,
    k5: Key<User>,
    k6: Key<User>,
    k7: Key<User>,
    k8: Key<User>,
    k9: Key<User>,
    k10: Key<User>,
    k11: Key<User>,
    k12: Key<User>,
    k13: Key<User>,
    k14: Key<User>,
    k15: Key<User>,
    k16: Key<User>,
    k17: Key<User>,
    k18: Key<User>,
    k19: Key<User>,
    k20: Key<User>,
    k21: Key<User>,
    k22: Key<User>,
    k23: Key<User>,
    k24: Key<User>,
    k25: Key<User>,
    k26: Key<User>,
    k27: Key<User>,
    k28: Key<User>,
    k29: Key<User>,
    k30: Key<User>,
    k31: Key<User>,
    k32: Key<User>,
}

fn main() {}
