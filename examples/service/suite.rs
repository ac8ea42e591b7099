//! One test suite for the service, run against every repository implementation.

use chrono::{TimeDelta, TimeZone, Utc};
use relata::Engine;
use uuid::Uuid;

use crate::fixture::Given;
use crate::relata_repo::{Group, Post, User};
use crate::repo::{Repo, Status};
use crate::service::{Blog, ServiceError};

/// A named case: it builds its own data through the service and asserts outcomes.
pub type Case<R> = (&'static str, fn(&mut Blog<R>));

pub fn cases<R: Repo>() -> Vec<Case<R>> {
    vec![
        ("sign_up_then_publish", sign_up_then_publish::<R>),
        ("a_taken_username_is_refused", a_taken_username_is_refused::<R>),
        ("a_taken_email_is_refused", a_taken_email_is_refused::<R>),
        (
            "emails_are_unique_in_any_case",
            emails_are_unique_in_any_case::<R>,
        ),
        ("a_long_name_is_refused", a_long_name_is_refused::<R>),
        ("sign_up_records_time_and_id", sign_up_records_time_and_id::<R>),
        (
            "a_suspended_user_cannot_publish",
            a_suspended_user_cannot_publish::<R>,
        ),
        ("a_blank_name_is_invalid", a_blank_name_is_invalid::<R>),
        ("publishing_needs_a_user", publishing_needs_a_user::<R>),
        ("joining_twice_is_refused", joining_twice_is_refused::<R>),
        (
            "closing_an_account_removes_its_posts",
            closing_an_account_removes_its_posts::<R>,
        ),
        (
            "members_are_listed_in_join_order",
            members_are_listed_in_join_order::<R>,
        ),
        (
            "titles_are_paged_alphabetically",
            titles_are_paged_alphabetically::<R>,
        ),
        (
            "saving_an_account_twice_updates_it",
            saving_an_account_twice_updates_it::<R>,
        ),
        (
            "newest_posts_are_paged_with_a_cursor",
            newest_posts_are_paged_with_a_cursor::<R>,
        ),
        (
            "posts_of_the_same_time_page_by_id",
            posts_of_the_same_time_page_by_id::<R>,
        ),
        (
            "the_group_feed_pages_the_members_posts",
            the_group_feed_pages_the_members_posts::<R>,
        ),
        (
            "joining_a_group_by_name_is_idempotent",
            joining_a_group_by_name_is_idempotent::<R>,
        ),
        (
            "a_name_and_email_both_taken_as_the_engine_reports",
            a_name_and_email_both_taken_as_the_engine_reports::<R>,
        ),
    ]
}

/// A sign-up that breaks two unique constraints gets the one the database reports: SQLite
/// the last declared (the email), PostgreSQL the first (the username); relata follows its
/// engine profile, so a service's error handling is tested against the database it runs on.
fn a_name_and_email_both_taken_as_the_engine_reports<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    let reported = match b.repo.engine() {
        Engine::Postgres => ServiceError::NameTaken,
        _ => ServiceError::EmailTaken,
    };
    assert_eq!(b.sign_up("alice", "ALICE@example.com"), Err(reported));
}

fn newest_posts_are_paged_with_a_cursor<R: Repo>(b: &mut Blog<R>) {
    let mut g = Given::new();
    let alice = g.user("alice");
    g.posts(alice, ["one", "two", "three", "four", "five"]); // a minute apart
    g.create::<Post>(); // another author's, newer
    g.load(b);
    let first = b.newest_posts("alice", None, 2).unwrap();
    assert_eq!(first.titles(), ["five", "four"]);
    // A newer post does not shift the next page: it starts after the last row seen.
    b.clock.advance(TimeDelta::days(1));
    b.publish("alice", "six", "").unwrap();
    let second = b.newest_posts("alice", first.next, 2).unwrap();
    assert_eq!(second.titles(), ["three", "two"]);
    let last = b.newest_posts("alice", second.next, 2).unwrap();
    assert_eq!((last.titles(), last.next), (vec!["one"], None));
}

/// Ties on `created_at` are ordered by id, newest id first, and a page may end inside them.
fn posts_of_the_same_time_page_by_id<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    for title in ["a", "b", "c"] {
        b.publish("alice", title, "").unwrap();
    }
    let first = b.newest_posts("alice", None, 2).unwrap();
    assert_eq!(first.titles(), ["c", "b"]);
    let second = b.newest_posts("alice", first.next, 2).unwrap();
    assert_eq!((second.titles(), second.next), (vec!["a"], None));
}

fn the_group_feed_pages_the_members_posts<R: Repo>(b: &mut Blog<R>) {
    let mut g = Given::new();
    let [alice, bob, carol] = [(); 3].map(|_| g.create::<User>());
    let group = g.create::<Group>();
    g.members(group, [alice, bob]);
    g.posts(alice, ["a1"]); // each a minute after the one before
    g.posts(bob, ["b1"]);
    g.posts(carol, ["c1"]);
    g.posts(alice, ["a2"]);
    g.posts(bob, ["b2"]);
    let ids = g.load(b);
    let group = ids.get(group);
    let first = b.group_feed(group, None, 3).unwrap();
    assert_eq!(first.titles(), ["b2", "a2", "b1"]);
    let last = b.group_feed(group, first.next, 3).unwrap();
    assert_eq!((last.titles(), last.next), (vec!["a1"], None));
}

/// Upserts: the group is created on first use, and a second join is not an error.
fn joining_a_group_by_name_is_idempotent<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    b.sign_up("bob", "bob@example.com").unwrap();
    assert!(b.join_group("alice", "rust").unwrap());
    assert!(!b.join_group("alice", "rust").unwrap());
    assert!(b.join_group("bob", "rust").unwrap());
    let rust = b.repo.ensure_group("rust").unwrap();
    assert_eq!(b.repo.member_names(rust).unwrap(), ["alice", "bob"]);
    assert_eq!(b.join_group("nobody", "rust"), Err(ServiceError::NoSuchUser));
}

fn titles_are_paged_alphabetically<R: Repo>(b: &mut Blog<R>) {
    let mut g = Given::new();
    let (alice, bob) = (g.user("alice"), g.user("bob"));
    g.posts(alice, ["delta", "alpha", "echo", "charlie", "bravo"]);
    g.posts(bob, ["aardvark"]);
    g.load(b);
    assert_eq!(b.titles_page("alice", 0, 2).unwrap(), ["alpha", "bravo"]);
    assert_eq!(b.titles_page("alice", 1, 2).unwrap(), ["charlie", "delta"]);
    assert_eq!(b.titles_page("alice", 2, 2).unwrap(), ["echo"]);
    assert!(b.titles_page("alice", 3, 2).unwrap().is_empty());
}

fn saving_an_account_twice_updates_it<R: Repo>(b: &mut Blog<R>) {
    let first = b.save_account("alice", "old@example.com").unwrap();
    assert_eq!(b.save_account("alice", "new@example.com").unwrap(), first);
    b.sign_up("bob", "bob@example.com").unwrap();
    assert_eq!(
        b.save_account("alice", "bob@example.com"),
        Err(ServiceError::EmailTaken)
    );
    assert_eq!(
        b.sign_up("carol", "new@example.com"),
        Err(ServiceError::EmailTaken)
    );
}

fn sign_up_then_publish<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    b.publish("alice", "Hello", "first").unwrap();
    b.publish("alice", "Again", "second").unwrap();
    assert_eq!(b.titles("alice").unwrap(), ["Hello", "Again"]);
}

fn a_taken_username_is_refused<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    assert_eq!(
        b.sign_up("alice", "other@example.com"),
        Err(ServiceError::NameTaken)
    );
}

fn a_taken_email_is_refused<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "shared@example.com").unwrap();
    assert_eq!(
        b.sign_up("bob", "shared@example.com"),
        Err(ServiceError::EmailTaken)
    );
}

fn emails_are_unique_in_any_case<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "Alice@Example.com").unwrap();
    assert_eq!(
        b.sign_up("bob", "alice@example.COM"),
        Err(ServiceError::EmailTaken)
    );
    assert_eq!(b.account_by_email("ALICE@example.com").unwrap().username, "alice");
}

/// `username` is VARCHAR(30): relata refuses a longer one as PostgreSQL does, the SQLite
/// repository through a CHECK (SQLite ignores VARCHAR lengths).
fn a_long_name_is_refused<R: Repo>(b: &mut Blog<R>) {
    let long = "a".repeat(31);
    assert_eq!(
        b.sign_up(&long, "long@example.com"),
        Err(ServiceError::NameTooLong)
    );
    b.sign_up(&long[..30], "ok@example.com").unwrap();
}

fn sign_up_records_time_and_id<R: Repo>(b: &mut Blog<R>) {
    let start = b.clock.now;
    b.sign_up("alice", "alice@example.com").unwrap();
    b.clock.advance(TimeDelta::minutes(90));
    b.sign_up("bob", "bob@example.com").unwrap();
    let bob = b.account_by_email("bob@example.com").unwrap();
    assert_eq!(bob.created_at, start + TimeDelta::minutes(90));
    assert_eq!(bob.public_id, Uuid::from_u128(2));
    assert_eq!(bob.status, Status::Active);
}

fn a_suspended_user_cannot_publish<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    b.suspend("alice").unwrap();
    assert_eq!(b.publish("alice", "t", "b"), Err(ServiceError::Suspended));
    assert_eq!(
        b.account_by_email("alice@example.com").unwrap().status,
        Status::Suspended
    );
}

fn a_blank_name_is_invalid<R: Repo>(b: &mut Blog<R>) {
    assert_eq!(b.sign_up("", "x@example.com"), Err(ServiceError::InvalidName));
}

fn publishing_needs_a_user<R: Repo>(b: &mut Blog<R>) {
    assert_eq!(b.publish("nobody", "t", "b"), Err(ServiceError::NoSuchUser));
}

fn joining_twice_is_refused<R: Repo>(b: &mut Blog<R>) {
    let mut g = Given::new();
    let (alice, group) = (g.user("alice"), g.create::<Group>());
    g.members(group, [alice]);
    let ids = g.load(b);
    b.clock.advance(TimeDelta::days(1));
    assert_eq!(b.join("alice", ids.get(group)), Err(ServiceError::AlreadyMember));
}

fn closing_an_account_removes_its_posts<R: Repo>(b: &mut Blog<R>) {
    let mut g = Given::new();
    let (alice, group) = (g.user("alice"), g.create::<Group>());
    g.members(group, [alice]);
    g.posts(alice, ["mine"]);
    g.create::<Post>(); // another author's (the factory makes the author)
    let ids = g.load(b);
    b.close_account("alice").unwrap();
    assert_eq!(b.repo.count_posts().unwrap(), 1);
    assert!(b.repo.member_names(ids.get(group)).unwrap().is_empty());
    assert_eq!(b.titles("alice"), Err(ServiceError::NoSuchUser));
}

fn members_are_listed_in_join_order<R: Repo>(b: &mut Blog<R>) {
    let mut g = Given::new();
    let [carol, alice, bob] = ["carol", "alice", "bob"].map(|name| g.user(name));
    let group = g.create::<Group>();
    g.members(group, [bob, carol, alice]);
    let ids = g.load(b);
    assert_eq!(
        b.repo.member_names(ids.get(group)).unwrap(),
        ["bob", "carol", "alice"]
    );
}

/// Runs every case `rounds` times on fresh repositories from `make`; returns the total time.
pub fn run<R: Repo>(make: fn() -> R, rounds: usize) -> std::time::Duration {
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for (_, case) in cases::<R>() {
            let mut blog = Blog::new(make(), epoch());
            case(&mut blog);
        }
    }
    start.elapsed()
}

/// The time every case starts at.
pub fn epoch() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}
