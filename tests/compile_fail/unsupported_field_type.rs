use relata::Entity;

#[derive(Entity, Clone, Debug, PartialEq)]
struct Bag { items: Vec<String> }

fn main() {}
