// Everything else `#[derive(Column)]` rejects.
use relata::Column;

#[derive(Column, Clone, Debug, PartialEq)]
struct Wrapper<T>(T);

#[derive(Column, Clone, Copy, Debug, PartialEq)]
enum Empty {}

#[derive(Column, Clone, Copy, Debug, PartialEq)]
#[relata(rename_all = "kebab-case")]
enum Kebab { A }

#[derive(Column, Clone, Copy, Debug, PartialEq)]
#[relata(rename_all = "lowercase")]
enum Twins {
    #[relata(rename = "b")]
    A,
    B,
}

#[derive(Column, Clone, Debug, PartialEq)]
#[relata(integer)]
struct Email(String);

#[derive(Column, Clone, Copy, Debug, PartialEq)]
#[relata(float)]
enum Unknown { A }

fn main() {}
