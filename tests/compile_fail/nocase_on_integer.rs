use relata::Entity;

// `nocase` compares text ignoring case: on an integer it means nothing.
#[derive(Entity, Clone, Debug, PartialEq)]
struct Seat {
    #[relata(unique(nocase))]
    number: i64,
}

fn main() {}
