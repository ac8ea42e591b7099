//! The store's [`Clock`], which fills `#[relata(created_at)]` and `#[relata(updated_at)]`
//! fields, and the [`Timestamp`] types it can fill.
//!
//! A clock reads in microseconds since 1970-01-01T00:00:00Z (the precision PostgreSQL's
//! `TIMESTAMPTZ` keeps), clamped to the years 1 to 9999, which every timestamp type relata
//! knows can hold, so a reading always converts.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// 0001-01-01T00:00:00Z, in microseconds since the Unix epoch.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999Z, in microseconds since the Unix epoch.
const MAX_MICROS: i64 = 253_402_300_799_999_999;
/// 2000-01-01T00:00:00Z: where a store's default clock stands.
const Y2K_MICROS: i64 = 946_684_800_000_000;

/// Where a store reads the time for the fields it fills (`created_at`, `updated_at`).
///
/// A store starts with a *manual* clock standing at 2000-01-01T00:00:00Z: it moves only when
/// the test moves it ([`set`](Self::set), [`advance`](Self::advance)), so every test is
/// deterministic without asking. [`Clock::system`] reads the machine's time instead.
///
/// A clock is a shared handle: clones, and the store holding one, see the same time, so a
/// test keeps a clone and moves it while the store works. The store's clock is part of the
/// fixture a test must not leave changed:
/// - a [`fork`](crate::Store::fork) (one per thread) gets a clock of its own, standing where
///   its store's stood, so moving one fork's time moves no other store's;
/// - [`reset`](crate::Store::reset) to a mark, and the end of a
///   [`scope`](crate::Store::scope), give the store back the clock it had when the mark was
///   made (undoing a [`set_clock`](crate::Store::set_clock) since), set back to the time it
///   read then; so does a panic in [`faults().run`](crate::Faults::run), inside a
///   transaction too (a transaction's rollback does not: a database's time goes on);
/// - a store built from saved data ([`from_snapshot`](crate::Store::from_snapshot),
///   [`from_json`](crate::Store::from_json)) starts at the latest `created_at` /
///   `updated_at` value of a timestamp column in that data, if later than 2000-01-01, so what
///   a test inserts is never older than the fixture. The clock itself is not saved.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use relata::Clock;
///
/// let clock = Clock::default();
/// let start = clock.now();
/// let handle = clock.clone();
/// handle.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), start + Duration::from_secs(60));
/// clock.set(SystemTime::UNIX_EPOCH);
/// assert_eq!(clock.unix_micros(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct Clock {
    /// The manual clock's reading; `None` reads the system time.
    manual: Option<Arc<AtomicI64>>,
}

impl Default for Clock {
    /// A manual clock at 2000-01-01T00:00:00Z.
    fn default() -> Clock {
        Clock::manual_micros(Y2K_MICROS)
    }
}

impl Clock {
    /// A clock that stands at `start` until [`set`](Self::set) or
    /// [`advance`](Self::advance) moves it. O(1).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let clock = relata::Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(5));
    /// assert_eq!(clock.unix_micros(), 5_000_000);
    /// ```
    pub fn manual(start: SystemTime) -> Clock {
        Clock::manual_micros(micros_of(start))
    }

    fn manual_micros(micros: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(micros))),
        }
    }

    /// A clock that reads the machine's time (not deterministic: for tests, prefer the
    /// default manual clock). O(1).
    ///
    /// ```
    /// let clock = relata::Clock::system();
    /// assert!(clock.now() > std::time::SystemTime::UNIX_EPOCH);
    /// ```
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// The time now, to the microsecond. O(1).
    ///
    /// ```
    /// let clock = relata::Clock::default();
    /// assert_eq!(clock.now(), clock.now()); // a manual clock stands still
    /// ```
    pub fn now(&self) -> SystemTime {
        let micros = self.unix_micros();
        let magnitude = Duration::from_micros(micros.unsigned_abs());
        let now = match micros >= 0 {
            true => SystemTime::UNIX_EPOCH.checked_add(magnitude),
            false => SystemTime::UNIX_EPOCH.checked_sub(magnitude),
        };
        // Years 1 to 9999 fit every platform's `SystemTime`.
        now.unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// The time now in microseconds since 1970-01-01T00:00:00Z: what a timestamp field
    /// stores. O(1).
    ///
    /// ```
    /// assert_eq!(relata::Clock::default().unix_micros(), 946_684_800_000_000); // 2000-01-01
    /// ```
    pub fn unix_micros(&self) -> i64 {
        match &self.manual {
            Some(now) => now.load(Ordering::Relaxed),
            None => micros_of(SystemTime::now()),
        }
    }

    /// Moves a manual clock to `to` (clamped to the years 1 to 9999); a system clock does
    /// not move. A time finer than a microsecond is cut as a timestamp field cuts it (toward
    /// 2000-01-01, as the PostgreSQL clients bind one), so the clock reads what a field
    /// holding `to` reads. O(1).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let clock = relata::Clock::default();
    /// clock.set(SystemTime::UNIX_EPOCH + Duration::from_millis(1));
    /// assert_eq!(clock.unix_micros(), 1_000);
    /// ```
    pub fn set(&self, to: SystemTime) {
        self.set_micros(micros_of(to));
    }

    /// Moves a manual clock to `micros` since the Unix epoch (clamped to the years 1 to 9999).
    pub(crate) fn set_micros(&self, micros: i64) {
        if let Some(now) = &self.manual {
            now.store(micros.clamp(MIN_MICROS, MAX_MICROS), Ordering::Relaxed);
        }
    }

    /// Whether `other` is a handle to this clock (two system clocks are one).
    pub(crate) fn same(&self, other: &Clock) -> bool {
        match (&self.manual, &other.manual) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        }
    }

    /// A clock of its own reading what this one reads now (a system clock's is a system
    /// clock): what a fork gets.
    pub(crate) fn detached(&self) -> Clock {
        match self.manual {
            Some(_) => Clock::manual_micros(self.unix_micros()),
            None => Clock::system(),
        }
    }

    /// Moves a manual clock forward by `by` (clamped to the year 9999); a system clock does
    /// not move. O(1).
    ///
    /// ```
    /// use std::time::Duration;
    /// let clock = relata::Clock::default();
    /// let before = clock.unix_micros();
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(clock.unix_micros() - before, 1_000_000);
    /// ```
    pub fn advance(&self, by: Duration) {
        if let Some(now) = &self.manual {
            let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
            let _ = now.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| {
                Some(m.saturating_add(by).min(MAX_MICROS))
            });
        }
    }
}

/// `t` in microseconds since the Unix epoch, clamped to the years 1 to 9999, a finer time
/// cut as a timestamp field's is ([`postgres_micros`]), so the clock and a field holding the
/// same instant read alike.
fn micros_of(t: SystemTime) -> i64 {
    let (floor, finer) = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => {
            let finer = after.subsec_nanos() % 1000 != 0;
            (i64::try_from(after.as_micros()).unwrap_or(i64::MAX), finer)
        }
        Err(before) => {
            let before = before.duration();
            let finer = before.subsec_nanos() % 1000 != 0;
            let below = i64::try_from(before.as_micros()).map_or(i64::MIN, |m| -m - i64::from(finer));
            (below, finer)
        }
    };
    postgres_micros(floor, finer).clamp(MIN_MICROS, MAX_MICROS)
}

/// The microseconds of an instant `floor` microseconds (rounded down) after 1970, with
/// `finer` a part below the microsecond, cut as a PostgreSQL client cuts a bound
/// timestamp: toward 2000-01-01 (sqlx and rust-postgres send `(t - 2000-01-01)` in whole
/// microseconds, truncated toward zero).
pub(crate) fn postgres_micros(floor: i64, finer: bool) -> i64 {
    if finer && floor < Y2K_MICROS {
        floor.saturating_add(1)
    } else {
        floor
    }
}

/// A field type the store's [`Clock`] can fill: the types `#[relata(created_at)]` and
/// `#[relata(updated_at)]` accept. Implemented for chrono's `DateTime<Utc>` and
/// `NaiveDateTime` and time's `OffsetDateTime` (behind their features); implement it for
/// your own timestamp type.
///
/// A store built from saved data starts its clock at the latest stamp it holds, reading a
/// stamp field as microseconds since 1970 only when its type's SQL type is
/// [`SqlType::Timestamp`](crate::SqlType::Timestamp) or
/// [`SqlType::TimestampTz`](crate::SqlType::TimestampTz) and it stores an integer: give your
/// type one of those SQL types only if its representation is that integer (as relata's own
/// are). A type of any other SQL type (`Seconds` below, an `INTEGER`) is skipped there.
///
/// ```
/// use relata::{AsColumn, Column, SqlType, Timestamp};
///
/// /// Whole seconds since 1970, stored as an integer.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// struct Seconds(i64);
///
/// impl AsColumn for Seconds {
///     type Repr = i64;
///     type Ref<'a> = Seconds;
///     const SQL_TYPE: SqlType = SqlType::Integer;
///     fn into_repr(self) -> i64 { self.0 }
///     fn from_repr(s: i64) -> Seconds { Seconds(s) }
///     fn view(s: <i64 as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> { Seconds(s) }
/// }
///
/// impl Timestamp for Seconds {
///     fn from_unix_micros(micros: i64) -> Seconds {
///         Seconds(micros.div_euclid(1_000_000))
///     }
/// }
/// assert_eq!(Seconds::from_unix_micros(2_500_000), Seconds(2));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a timestamp the store's clock can fill",
    label = "`created_at` / `updated_at` need a timestamp field",
    note = "use chrono's `DateTime<Utc>` or `NaiveDateTime`, time's `OffsetDateTime`, or implement `relata::Timestamp` for `{Self}`"
)]
pub trait Timestamp: crate::Column {
    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z, a reading of a
    /// [`Clock`] (always within the years 1 to 9999).
    fn from_unix_micros(micros: i64) -> Self;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_clamped_to_years_one_to_9999() {
        let clock = Clock::default();
        clock.set(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 1000));
        assert_eq!(clock.unix_micros(), MAX_MICROS);
        clock.advance(Duration::MAX);
        assert_eq!(clock.unix_micros(), MAX_MICROS);
        clock.set(SystemTime::UNIX_EPOCH - Duration::from_secs(u64::from(u32::MAX) * 1000));
        assert_eq!(clock.unix_micros(), MIN_MICROS);
        assert!(clock.now() < SystemTime::UNIX_EPOCH);
    }

    #[test]
    fn a_system_clock_does_not_move_by_hand() {
        let clock = Clock::system();
        clock.set(SystemTime::UNIX_EPOCH);
        assert!(clock.unix_micros() > Y2K_MICROS);
    }
}
