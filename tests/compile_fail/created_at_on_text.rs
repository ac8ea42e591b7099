use relata::Entity;

#[derive(Entity, Clone, Debug, PartialEq)]
struct Note {
    #[relata(created_at)]
    created: String,
}

fn main() {}
