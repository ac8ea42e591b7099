//! The baseline's moves, cascade deletes and fixture journal.

use super::{Hand, HandError, PostKey, Undo, UserKey};

impl Hand {
    /// Points a post at another user: removed from the old user's list (order kept), appended
    /// to the new one's.
    pub fn move_post(&mut self, post: PostKey, to: UserKey) -> Result<(), HandError> {
        if !self.users.contains_key(to) {
            return Err(HandError::MissingParent("posts.user_id"));
        }
        let row = self
            .posts
            .get_mut(post)
            .ok_or(HandError::MissingParent("posts.id"))?;
        let from = std::mem::replace(&mut row.user, to);
        if from == to {
            return Ok(());
        }
        let list = self.posts_of.get_mut(from).expect("old parent's list");
        let at = list
            .iter()
            .position(|&p| p == post)
            .expect("post in its parent's list");
        list.remove(at);
        self.children_mut(to).push(post);
        self.log(Undo::Moved { post, from, at });
        Ok(())
    }

    /// Deletes a user with its profile, posts and memberships (ON DELETE CASCADE); returns the
    /// rows deleted. Not journalled: fixture scripts do not delete.
    pub fn delete_user(&mut self, key: UserKey) -> Option<usize> {
        debug_assert!(self.journal.is_none(), "deletes are not journalled");
        let user = self.users.remove(key)?;
        self.unlink_user(key, &user);
        let mut deleted = 1;
        if let Some(profile) = self.profile_of.remove(key) {
            self.profiles.remove(profile);
            deleted += 1;
        }
        for post in self.posts_of.remove(key).unwrap_or_default() {
            self.posts.remove(post);
            deleted += 1;
        }
        for (group, _) in self.memberships.remove(key).unwrap_or_default() {
            if let Some(set) = self.members.get_mut(group) {
                set.remove(&key);
            }
            deleted += 1;
        }
        Some(deleted)
    }

    /// Starts journalling: the current state becomes the fixture.
    pub fn mark(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// Stops journalling.
    pub fn release(&mut self) {
        self.journal = None;
    }

    /// Undoes every journalled write, newest first; the mark stays.
    pub fn reset(&mut self) {
        let mut journal = self.journal.take().expect("a fixture mark");
        while let Some(undo) = journal.pop() {
            self.undo(undo);
        }
        self.journal = Some(journal);
    }

    fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::User(key) => {
                let user = self.users.remove(key).expect("journalled user");
                self.unlink_user(key, &user);
                self.posts_of.remove(key);
                self.memberships.remove(key);
            }
            Undo::Profile(key) => {
                let profile = self.profiles.remove(key).expect("journalled profile");
                self.profile_of.remove(profile.user);
            }
            Undo::Post(key) => {
                let post = self.posts.remove(key).expect("journalled post");
                let popped = self.posts_of.get_mut(post.user).and_then(Vec::pop);
                debug_assert_eq!(popped, Some(key));
            }
            Undo::Member(user, group) => {
                self.memberships.get_mut(user).and_then(Vec::pop);
                if let Some(set) = self.members.get_mut(group) {
                    set.remove(&user);
                }
            }
            Undo::Moved { post, from, at } => self.undo_move(post, from, at),
        }
    }

    fn undo_move(&mut self, post: PostKey, from: UserKey, at: usize) {
        let row = self.posts.get_mut(post).expect("journalled post");
        let to = std::mem::replace(&mut row.user, from);
        let popped = self.posts_of.get_mut(to).and_then(Vec::pop);
        debug_assert_eq!(popped, Some(post));
        self.posts_of
            .get_mut(from)
            .expect("old parent's list")
            .insert(at, post);
    }
}
