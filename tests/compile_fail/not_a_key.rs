use relata::Entity;

#[derive(Entity, Clone, Debug, PartialEq)]
struct Post {
    #[relata(on_delete = "cascade")]
    author: String,
}

fn main() {}
