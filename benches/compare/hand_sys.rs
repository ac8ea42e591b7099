//! The hand-written baseline under test. Rows are moved in (their `String`s were allocated
//! before the timer, a lower bound); a rejected row comes back
//! inside the `Err` and is dropped inside the timed loop.

use std::hint::black_box;
use std::mem::take;

use crate::data::{Bundle, UserRow};
use crate::hand::{Group, GroupKey, Hand, HandError, Post, PostKey, Profile, User, UserKey};
use crate::subject::{read_text, Counts, Ids, Restore, Subject};

impl Subject for Hand {
    const NAME: &'static str = "baseline";
    type User = UserKey;
    type Post = PostKey;
    type Group = GroupKey;
    type Snapshot = Vec<u8>;

    fn open() -> Hand {
        Hand::default()
    }

    fn insert_groups(&mut self, names: &mut [String]) -> Vec<GroupKey> {
        let mut insert = |name: &mut String| {
            let group = self.insert_group(Group { name: take(name) });
            group.map_err(|(e, _)| e).expect("insert group")
        };
        names.iter_mut().map(&mut insert).collect()
    }

    fn insert_bundle(&mut self, b: &mut Bundle, groups: &[GroupKey], ids: &mut Ids<Hand>) {
        let username = take(&mut b.user.username);
        let user = self.insert_user(User {
            username,
            email: take(&mut b.user.email),
        });
        let user = user.map_err(|(e, _)| e).expect("insert user");
        ids.users.push(user);
        let profile = self.insert_profile(Profile {
            bio: take(&mut b.bio),
            user,
        });
        profile.map_err(|(e, _)| e).expect("insert profile");
        for p in &mut b.posts {
            let (title, content) = (take(&mut p.title), take(&mut p.content));
            let post = self.insert_post(Post { title, content, user });
            ids.posts.push(post.map_err(|(e, _)| e).expect("insert post"));
        }
        for (&g, &joined_on) in b.groups.iter().zip(&b.joined_on) {
            let group = groups[g as usize];
            self.insert_member(user, group, joined_on)
                .expect("insert membership");
        }
    }

    fn counts(&mut self) -> Counts {
        Hand::counts(self)
    }

    fn lookup_unique(&mut self, names: &[String]) -> usize {
        let mut found = 0;
        for name in names {
            found += black_box(self.find_user(name)).is_some() as usize;
        }
        found
    }

    fn o2m_keys(&mut self, users: &[UserKey]) -> usize {
        let mut n = 0;
        for &u in users {
            for &post in self.posts_of(u) {
                black_box(post);
                n += 1;
            }
        }
        n
    }

    fn o2m_fields(&mut self, users: &[UserKey]) -> usize {
        let mut n = 0;
        for &u in users {
            for &post in self.posts_of(u) {
                if let Some(p) = self.post(post) {
                    read_text(&p.title);
                    n += 1;
                }
            }
        }
        n
    }

    fn m2m_forward(&mut self, users: &[UserKey]) -> usize {
        let mut n = 0;
        for &u in users {
            for &(group, _) in self.groups_of(u) {
                black_box(group);
                n += 1;
            }
        }
        n
    }

    fn m2m_reverse(&mut self, groups: &[GroupKey]) -> usize {
        let mut n = 0;
        for &g in groups {
            for user in self.members_of(g) {
                black_box(user);
                n += 1;
            }
        }
        n
    }

    fn insert_rejected(&mut self, rows: &mut [UserRow]) -> usize {
        let mut rejected = 0;
        for row in rows {
            let user = User {
                username: take(&mut row.username),
                email: take(&mut row.email),
            };
            let result = black_box(self.insert_user(user));
            rejected += matches!(result, Err((HandError::Unique(_), _))) as usize;
        }
        rejected
    }

    fn move_posts(&mut self, moves: &[(PostKey, UserKey)]) {
        for &(post, to) in moves {
            self.move_post(post, to).expect("move post");
        }
    }

    fn delete_users(&mut self, users: &[UserKey]) -> usize {
        for &u in users {
            black_box(self.delete_user(u).expect("delete user"));
        }
        users.len()
    }

    fn fork(&mut self) -> Hand {
        self.clone()
    }

    fn snapshot_save(&mut self) -> Option<Vec<u8>> {
        Some(self.save())
    }

    fn snapshot_load(snapshot: &Vec<u8>) -> Option<Hand> {
        Some(Hand::load(snapshot))
    }

    fn snapshot_len(snapshot: &Vec<u8>) -> usize {
        snapshot.len()
    }

    fn fixture_mark(&mut self, _how: Restore) -> bool {
        self.mark();
        true
    }

    fn fixture_reset(&mut self) {
        self.reset();
    }

    fn fixture_release(&mut self) {
        self.release();
    }
}
