use relata::Entity;

// A column has one NULL: `Some(None)` would have no stored form apart from `None`, and a
// snapshot, JSON fixture or DDL could not tell `Option<Option<T>>` from `Option<T>`.
#[derive(Entity, Clone, Debug, PartialEq)]
struct Reading { value: Option<Option<i64>> }

// Through an alias too: the check is on the type, not its spelling.
type Maybe = Option<String>;

#[derive(Entity, Clone, Debug, PartialEq)]
struct Note { text: Option<Maybe> }

fn main() {}
