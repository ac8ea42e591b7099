use relata::{Entity, Key, Schema, Store};

#[derive(Entity, Clone, Debug, PartialEq)]
struct User { name: String }

#[derive(Entity, Clone, Debug, PartialEq)]
struct Post { title: String, author: Key<User> }

fn main() {
    let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build().unwrap());
    let alice = store.insert(User { name: "alice".into() }).unwrap();
    let post = store.insert(Post { title: "t".into(), author: alice }).unwrap();
    // A Key<Post> is not a Key<User>.
    let _ = Post { title: "u".into(), author: post };
}
