use relata::Entity;

#[derive(Entity, Clone, Debug, PartialEq)]
struct Item {
    #[relata(max_len = 10)]
    count: i64,
}

fn main() {}
