use relata::Column;

#[derive(Column, Clone, Copy, Debug, PartialEq)]
enum Shape {
    Circle(u32),
    Square,
}

#[derive(Column, Clone, Debug, PartialEq)]
struct Pair(String, String);

fn main() {}
