//! The seed tutorials end to end: users with one address and one profile (one-to-one), posts
//! (one-to-many with delete-orphan cascade), groups through a plain association table
//! (many-to-many) and through dated memberships (the association object), the queries of the
//! tutorials, a transaction, a snapshot, and the constraint errors a user meets on the way.
//!
//! Run: `cargo run --release --example blog`

use chrono::{DateTime, TimeZone, Utc};
use relata::{Entity, Error, Key, ManyToMany, Schema, Store};

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "users")]
struct User {
    #[relata(unique)]
    username: String,
    #[relata(unique)]
    email: String,
}

/// Tutorial 1: `User.address = relationship("Address", uselist=False)`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "addresses")]
struct Address {
    email_address: String,
    #[relata(unique, back = "address", on_delete = "set_null")]
    user: Option<Key<User>>,
}

/// Tutorial 2: `Profile.user_id = Column(ForeignKey('users.id'), unique=True)`, owned by its
/// user (`cascade="all, delete-orphan"`).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "profiles")]
struct Profile {
    bio: String,
    #[relata(unique, back = "profile", on_delete = "cascade", orphan)]
    user: Option<Key<User>>,
}

/// Tutorial 3: `posts = relationship("Post", cascade="all, delete-orphan")`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "posts")]
struct Post {
    title: String,
    content: String,
    #[relata(back = "posts", on_delete = "cascade", orphan)]
    author: Key<User>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "groups")]
struct Group {
    #[relata(unique)]
    name: String,
}

/// Tutorial 3's plain association table: `user_group_association(user_id, group_id)`, with
/// `User.groups` and `Group.users`.
const GROUPS: ManyToMany<User, Group> = ManyToMany::new("user_group_association", "groups", "users");

/// Tutorial 3's association object: `UserGroup(user_id, group_id, joined_on)`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "user_groups", unique(user, group))]
struct UserGroup {
    #[relata(back = "user_groups", on_delete = "cascade")]
    user: Key<User>,
    #[relata(back = "user_groups", on_delete = "cascade")]
    group: Key<Group>,
    /// A timestamp column (`Column(DateTime)` in the tutorial): TIMESTAMPTZ in PostgreSQL.
    joined_on: DateTime<Utc>,
}

/// Reported audit entries restrict deleting the post they point at.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "reports")]
struct Report {
    reason: String,
    #[relata(back = "reports")]
    post: Key<Post>,
}

fn schema() -> Result<Schema, relata::SchemaError> {
    Schema::builder()
        .entity::<User>()
        .entity::<Address>()
        .entity::<Profile>()
        .entity::<Post>()
        .entity::<Group>()
        .entity::<UserGroup>()
        .entity::<Report>()
        .relation(GROUPS)
        .build()
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, Error>) {
    match result {
        Err(e) => println!("  {what}: refused\n    {e}"),
        Ok(v) => println!("  {what}: unexpectedly accepted ({v:?})"),
    }
}

fn user(name: &str) -> User {
    User {
        username: name.into(),
        email: format!("{name}@example.com"),
    }
}

/// Midnight UTC of a calendar day.
fn day(year: i32, month: u32, day: u32) -> Result<DateTime<Utc>, String> {
    (Utc.with_ymd_and_hms(year, month, day, 0, 0, 0).single())
        .ok_or_else(|| format!("no day {year}-{month}-{day}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::new(schema()?);

    section("one-to-one: a user, an address, a profile");
    let alice = store.insert(user("alice"))?;
    let addr = store.insert(Address {
        email_address: "alice@home.example".into(),
        user: Some(alice),
    })?;
    store.insert(Profile {
        bio: "I am Alice's profile".into(),
        user: Some(alice),
    })?;
    let found = store
        .find_unique(User::BY_USERNAME, "alice")
        .ok_or("alice not found")?;
    let profile = store.children(Profile::USER, found).next().ok_or("no profile")?;
    println!("  alice's profile says: {:?}", store.try_get(profile)?.bio);
    let address = store.children(Address::USER, found).next().ok_or("no address")?;
    println!("  alice's address is {}", store.try_get(address)?.email_address);
    refused(
        "a second profile for alice",
        store.insert(Profile {
            bio: "another".into(),
            user: Some(alice),
        }),
    );
    refused("a second user named alice", store.insert(user("alice")));

    section("one-to-many: posts, kept in sync from both ends");
    let bob = store.insert(user("bob"))?;
    let hello = store.insert(Post {
        title: "Hello".into(),
        content: "First post".into(),
        author: alice,
    })?;
    let again = store.insert(Post {
        title: "Again".into(),
        content: "Second post".into(),
        author: alice,
    })?;
    let titles = |s: &Store, u| -> Vec<String> {
        s.children(Post::AUTHOR, u)
            .filter_map(|p| s.get(p))
            .map(|p| p.title.to_string())
            .collect()
    };
    println!("  alice's posts: {:?}", titles(&store, alice));
    store.update(again, |p| p.author = bob)?;
    println!(
        "  after moving \"Again\" to bob: alice {:?}, bob {:?}",
        titles(&store, alice),
        titles(&store, bob)
    );

    section("many-to-many: groups through an association table");
    let carol = store.insert(user("carol"))?;
    let admin = store.insert(Group { name: "admin".into() })?;
    let staff = store.insert(Group { name: "staff".into() })?;
    let empty = store.insert(Group { name: "empty".into() })?;
    store.link(GROUPS, alice, staff)?;
    store.link(GROUPS, alice, admin)?;
    store.link(GROUPS, bob, admin)?;
    let names = |s: &Store, keys: &[Key<Group>]| -> Vec<String> {
        keys.iter()
            .filter_map(|k| s.get(*k))
            .map(|g| g.name.to_string())
            .collect()
    };
    let usernames = |s: &Store, keys: &[Key<User>]| -> Vec<String> {
        keys.iter()
            .filter_map(|k| s.get(*k))
            .map(|u| u.username.to_string())
            .collect()
    };
    let alice_groups: Vec<_> = store.rights(GROUPS, alice).collect();
    println!("  groups of alice: {:?}", names(&store, &alice_groups));
    let admins: Vec<_> = store.lefts(GROUPS, admin).collect();
    println!("  members of admin: {:?}", usernames(&store, &admins));
    let loners = store.query::<User>().without_rights(GROUPS).keys();
    println!("  users in no group: {:?}", usernames(&store, &loners));
    for (g, n) in store.query::<Group>().count_lefts(GROUPS) {
        println!("  {} has {n} member(s)", store.try_get(g)?.name);
    }
    refused("linking alice to admin twice", store.link(GROUPS, alice, admin));

    section("association object: memberships with joined_on");
    store.insert(UserGroup {
        user: alice,
        group: staff,
        joined_on: day(2024, 1, 1)?,
    })?;
    store.insert(UserGroup {
        user: alice,
        group: admin,
        joined_on: day(2024, 2, 15)?,
    })?;
    store.insert(UserGroup {
        user: bob,
        group: admin,
        joined_on: day(2024, 3, 1)?,
    })?;
    for m in store.children(UserGroup::USER, alice) {
        let m = store.try_get(m)?;
        println!(
            "  alice joined {} on {}",
            store.try_get(m.group)?.name,
            m.joined_on.format("%Y-%m-%d")
        );
    }
    let via: Vec<_> = store.through(UserGroup::GROUP, UserGroup::USER, admin).collect();
    println!(
        "  members of admin, through the memberships: {:?}",
        usernames(&store, &via)
    );
    let posts_by_admins = store
        .query_keys([admin])
        .through(UserGroup::GROUP, UserGroup::USER)
        .children(Post::AUTHOR);
    let titles: Vec<String> = posts_by_admins.iter().map(|(_, p)| p.title.to_string()).collect();
    println!("  posts written by members of admin: {titles:?}");
    refused(
        "alice joining admin twice",
        store.insert(UserGroup {
            user: alice,
            group: admin,
            joined_on: day(2025, 1, 1)?,
        }),
    );
    let _ = (carol, empty);

    section("replacing a one-to-one child: user.profile = new_profile");
    let old = store.child(Profile::USER, alice).ok_or("alice has no profile")?;
    let fresh = store.insert(Profile {
        bio: "Alice, rewritten".into(),
        user: None,
    })?;
    refused(
        "writing the new profile's user_id directly",
        store.update(fresh, |p| p.user = Some(alice)),
    );
    store.set_child(Profile::USER, Some(fresh), alice)?;
    println!(
        "  with set_child the old profile is displaced and, being an orphan, deleted: {}",
        !store.contains(old)
    );
    println!("  alice's profile now says {:?}", store.try_get(fresh)?.bio);

    section("transactions: all or nothing");
    let before = store.count::<Post>();
    let outcome: Result<(), Error> = store.transaction(|s| {
        s.insert(Post {
            title: "Draft".into(),
            content: "...".into(),
            author: bob,
        })?;
        s.insert(user("alice"))?; // fails: the whole transaction rolls back
        Ok(())
    });
    println!(
        "  a transaction that failed half-way: {}",
        outcome.map_or_else(|e| e.to_string(), |_| "ok".into())
    );
    println!("  posts before {before}, after {}", store.count::<Post>());

    section("snapshots: save and load, keys intact");
    let bytes = store.to_snapshot()?;
    let loaded = Store::from_snapshot(schema()?, &bytes)?;
    println!(
        "  {} bytes; the loaded store equals the original: {}; alice is {:?}",
        bytes.len(),
        loaded == store,
        loaded.try_get(alice)?.username
    );

    section("deletes: restrict, cascade, set null");
    store.insert(Report {
        reason: "spam?".into(),
        post: hello,
    })?;
    refused(
        "deleting alice while a report points at her post",
        store.delete(alice),
    );
    println!("  alice is still there: {}", store.contains(alice));
    let report = store.children(Report::POST, hello).next().ok_or("no report")?;
    store.delete(report)?;
    let mark = store.mark()?;
    let done = store.delete(alice)?;
    println!(
        "  deleting alice removed {} records ({} posts, {} profile, {} memberships) and nulled {} reference(s)",
        done.deleted.len(),
        done.deleted_from::<Post>(),
        done.deleted_from::<Profile>(),
        done.deleted_from::<UserGroup>(),
        done.nulled.len()
    );
    println!("  her address survives, unowned: {:?}", store.try_get(addr)?.user);
    refused("reading alice through her old key", store.try_get(alice));

    section("what that one delete changed (a diff, read off the journal)");
    let diff = store.changes_since(&mark)?;
    store.release_mark(&mark)?;
    for line in diff.to_string().lines() {
        println!("  {line}");
    }

    section("a picture of the data");
    draw(&store, bob)?;

    store.check_integrity()?;
    println!("\nintegrity check passed");
    Ok(())
}

/// Writes bob's neighbourhood and the schema as Graphviz DOT under `target/blog/`, and renders
/// them to SVG when Graphviz's `dot` is installed.
fn draw(store: &Store, bob: Key<User>) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new("target/blog");
    std::fs::create_dir_all(dir)?;
    let pictures = [
        ("bob", store.to_dot(&relata::DotOptions::new().around(bob, 2))),
        ("schema", store.schema().to_dot()),
    ];
    for (name, dot) in pictures {
        let path = dir.join(format!("{name}.dot"));
        std::fs::write(&path, dot)?;
        let svg = dir.join(format!("{name}.svg"));
        let rendered = std::process::Command::new("dot")
            .args(["-Tsvg", "-o"])
            .arg(&svg)
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if rendered {
            println!("  rendered {}", svg.display());
        } else {
            println!(
                "  wrote {} (install Graphviz to render it: dot -Tsvg)",
                path.display()
            );
        }
    }
    Ok(())
}
