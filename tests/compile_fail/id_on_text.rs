use relata::Entity;

#[derive(Entity, Clone, Debug, PartialEq)]
struct Slugged {
    #[relata(id)]
    slug: String,
}

fn main() {}
