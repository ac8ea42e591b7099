//! One test suite for the service, run against every repository implementation.

use crate::repo::Repo;
use crate::service::{Blog, ServiceError};

/// A named case: it builds its own data through the service and asserts outcomes.
pub type Case<R> = (&'static str, fn(&mut Blog<R>));

pub fn cases<R: Repo>() -> Vec<Case<R>> {
    vec![
        ("sign_up_then_publish", sign_up_then_publish::<R>),
        ("a_taken_username_is_refused", a_taken_username_is_refused::<R>),
        ("a_taken_email_is_refused", a_taken_email_is_refused::<R>),
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
    ]
}

fn titles_are_paged_alphabetically<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    b.sign_up("bob", "bob@example.com").unwrap();
    for title in ["delta", "alpha", "echo", "charlie", "bravo"] {
        b.publish("alice", title, "body").unwrap();
    }
    b.publish("bob", "aardvark", "body").unwrap();
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

fn a_blank_name_is_invalid<R: Repo>(b: &mut Blog<R>) {
    assert_eq!(b.sign_up("", "x@example.com"), Err(ServiceError::InvalidName));
}

fn publishing_needs_a_user<R: Repo>(b: &mut Blog<R>) {
    assert_eq!(b.publish("nobody", "t", "b"), Err(ServiceError::NoSuchUser));
}

fn joining_twice_is_refused<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    let admin = b.repo.create_group("admin").unwrap();
    b.join("alice", admin, 20240101).unwrap();
    assert_eq!(b.join("alice", admin, 20240102), Err(ServiceError::AlreadyMember));
}

fn closing_an_account_removes_its_posts<R: Repo>(b: &mut Blog<R>) {
    b.sign_up("alice", "alice@example.com").unwrap();
    b.sign_up("bob", "bob@example.com").unwrap();
    b.publish("alice", "mine", "").unwrap();
    b.publish("bob", "his", "").unwrap();
    let admin = b.repo.create_group("admin").unwrap();
    b.join("alice", admin, 1).unwrap();
    b.close_account("alice").unwrap();
    assert_eq!(b.repo.count_posts().unwrap(), 1);
    assert!(b.repo.member_names(admin).unwrap().is_empty());
    assert_eq!(b.titles("alice"), Err(ServiceError::NoSuchUser));
}

fn members_are_listed_in_join_order<R: Repo>(b: &mut Blog<R>) {
    for name in ["carol", "alice", "bob"] {
        b.sign_up(name, &format!("{name}@example.com")).unwrap();
    }
    let g = b.repo.create_group("g").unwrap();
    for name in ["bob", "carol", "alice"] {
        b.join(name, g, 1).unwrap();
    }
    assert_eq!(b.repo.member_names(g).unwrap(), ["bob", "carol", "alice"]);
}

/// Runs every case `rounds` times on fresh repositories from `make`; returns the total time.
pub fn run<R: Repo>(make: fn() -> R, rounds: usize) -> std::time::Duration {
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for (_, case) in cases::<R>() {
            let mut blog = Blog { repo: make() };
            case(&mut blog);
        }
    }
    start.elapsed()
}
