//! [`AsColumn`] for other crates' types, each behind the cargo feature named after its crate.
//!
//! | type | stored as | PostgreSQL | SQLite |
//! |---|---|---|---|
//! | `chrono::DateTime<Utc>`, `time::OffsetDateTime` | `i64` microseconds since 1970-01-01 UTC | TIMESTAMPTZ | INTEGER |
//! | `chrono::NaiveDateTime` | `i64` microseconds since 1970-01-01 | TIMESTAMP | INTEGER |
//! | `chrono::NaiveDate`, `time::Date` | `i64` days since 1970-01-01 | DATE | INTEGER |
//! | `uuid::Uuid` | text, hyphenated lower case | UUID | TEXT |
//! | `rust_decimal::Decimal` | text, its digits as written (`1.50`) | NUMERIC | TEXT |
//! | `serde_json::Value` | text, canonical JSON (object keys sorted) | JSONB | TEXT |
//!
//! Timestamps keep microseconds, as PostgreSQL does, and a finer time is cut the way the
//! PostgreSQL clients cut a bound parameter (sqlx and rust-postgres send the microseconds
//! since 2000-01-01, truncated toward zero): down to the microsecond after 2000-01-01, up
//! before it, so a value reads back from relata as it would from PostgreSQL through them (a
//! later instant still never sorts before an earlier one). A text literal in SQL is rounded
//! to the nearest microsecond by PostgreSQL instead (`docs/ENGINES.md`). An `OffsetDateTime` comes back in UTC
//! (TIMESTAMPTZ keeps the instant, not the offset). Errors, diffs and JSON show times and dates
//! in ISO 8601. Timestamps, dates and UUIDs order as the instants, days and bytes they are;
//! a `Decimal` keeps its digits as written (`1.50` reads back as `1.50`, as from NUMERIC) and
//! compares by value in unique and secondary indexes and in order, as PostgreSQL's NUMERIC
//! does: `1.5` and `1.50` collide in a unique column, and `9` sorts before `10`
//! ([`Value::Numeric`](crate::Value::Numeric); SQLite, where the DDL makes it TEXT, compares
//! the texts); a `serde_json::Value`
//! compares by its canonical text, so key order does not matter but `1` and `1.0` differ
//! (JSONB makes them equal).

#[allow(unused_imports)]
use crate::clock::{postgres_micros, Timestamp};
#[allow(unused_imports)]
use crate::column::{AsColumn, Column};
#[allow(unused_imports)]
use crate::value::{SqlType, Value};

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` from UTC parts (the fraction only when not zero).
#[cfg(any(feature = "time", test))]
fn iso_utc(date: (i32, u8, u8), time: (u8, u8, u8), micros: u32) -> String {
    let (h, mi, s) = time;
    let fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    };
    format!("{}T{h:02}:{mi:02}:{s:02}{fraction}Z", iso_date(date))
}

/// `YYYY-MM-DD`, a year before 1 BC (year 0) with a minus and still four digits
/// (`-0001-03-04`), as ISO 8601 and `chrono` write it (`{:04}` of -1 is `-001`).
#[cfg(any(feature = "time", test))]
fn iso_date((y, mo, d): (i32, u8, u8)) -> String {
    let sign = if y < 0 { "-" } else { "" };
    format!("{sign}{:04}-{mo:02}-{d:02}", y.unsigned_abs())
}

#[cfg(feature = "chrono")]
mod chrono_types {
    use super::*;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

    /// Days from 0001-01-01 (day 1) to 1970-01-01.
    const UNIX_EPOCH_FROM_CE: i64 = 719_163;

    fn micros(m: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(m)
    }

    impl AsColumn for DateTime<Utc> {
        type Repr = i64;
        type Ref<'a> = DateTime<Utc>;
        const SQL_TYPE: SqlType = SqlType::TimestampTz;
        fn into_repr(self) -> i64 {
            postgres_micros(self.timestamp_micros(), self.timestamp_subsec_nanos() % 1000 != 0)
        }
        fn from_repr(m: i64) -> Self {
            micros(m).unwrap_or_default()
        }
        fn view(m: <i64 as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            micros(m).unwrap_or_default()
        }
        fn accepts(m: <i64 as Column>::Ref<'_>) -> bool {
            micros(m).is_some()
        }
        fn shown(t: DateTime<Utc>) -> Option<String> {
            Some(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }
        fn from_json(json: &serde_json::Value) -> Option<Self> {
            json.as_str()?.parse().ok()
        }
    }

    impl AsColumn for NaiveDateTime {
        type Repr = i64;
        type Ref<'a> = NaiveDateTime;
        const SQL_TYPE: SqlType = SqlType::Timestamp;
        fn into_repr(self) -> i64 {
            self.and_utc().into_repr()
        }
        fn from_repr(m: i64) -> Self {
            micros(m).unwrap_or_default().naive_utc()
        }
        fn view(m: <i64 as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            Self::from_repr(m)
        }
        fn accepts(m: <i64 as Column>::Ref<'_>) -> bool {
            micros(m).is_some()
        }
        fn shown(t: NaiveDateTime) -> Option<String> {
            Some(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
        }
        fn from_json(json: &serde_json::Value) -> Option<Self> {
            json.as_str()?.parse().ok()
        }
    }

    /// `Value::Int`: the microseconds since 1970-01-01 UTC the store holds.
    impl From<DateTime<Utc>> for Value<'_> {
        fn from(t: DateTime<Utc>) -> Self {
            Value::Int(t.into_repr())
        }
    }

    /// `Value::Int`: the microseconds since 1970-01-01 the store holds.
    impl From<NaiveDateTime> for Value<'_> {
        fn from(t: NaiveDateTime) -> Self {
            Value::Int(t.into_repr())
        }
    }

    /// `Value::Int`: the days since 1970-01-01 the store holds.
    impl From<NaiveDate> for Value<'_> {
        fn from(d: NaiveDate) -> Self {
            Value::Int(d.into_repr())
        }
    }

    impl Timestamp for DateTime<Utc> {
        fn from_unix_micros(m: i64) -> Self {
            micros(m).unwrap_or_default()
        }
    }

    impl Timestamp for NaiveDateTime {
        fn from_unix_micros(m: i64) -> Self {
            Self::from_repr(m)
        }
    }

    fn days(d: i64) -> Option<NaiveDate> {
        let from_ce = i32::try_from(d.checked_add(UNIX_EPOCH_FROM_CE)?).ok()?;
        NaiveDate::from_num_days_from_ce_opt(from_ce)
    }

    impl AsColumn for NaiveDate {
        type Repr = i64;
        type Ref<'a> = NaiveDate;
        const SQL_TYPE: SqlType = SqlType::Date;
        fn into_repr(self) -> i64 {
            i64::from(chrono::Datelike::num_days_from_ce(&self)) - UNIX_EPOCH_FROM_CE
        }
        fn from_repr(d: i64) -> Self {
            days(d).unwrap_or_default()
        }
        fn view(d: <i64 as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            days(d).unwrap_or_default()
        }
        fn accepts(d: <i64 as Column>::Ref<'_>) -> bool {
            days(d).is_some()
        }
        fn shown(d: NaiveDate) -> Option<String> {
            Some(d.to_string())
        }
        fn from_json(json: &serde_json::Value) -> Option<Self> {
            json.as_str()?.parse().ok()
        }
    }
}

#[cfg(feature = "time")]
mod time_types {
    use super::*;
    use time::{Date, OffsetDateTime};

    /// The Julian day number of 1970-01-01.
    const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

    fn micros(m: i64) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(m) * 1000).ok()
    }

    impl AsColumn for OffsetDateTime {
        type Repr = i64;
        type Ref<'a> = OffsetDateTime;
        const SQL_TYPE: SqlType = SqlType::TimestampTz;
        fn into_repr(self) -> i64 {
            let nanos = self.unix_timestamp_nanos();
            // Within time's range (±9999 years) the microseconds always fit.
            let floor = i64::try_from(nanos.div_euclid(1000)).unwrap_or(i64::MAX);
            postgres_micros(floor, nanos.rem_euclid(1000) != 0)
        }
        fn from_repr(m: i64) -> Self {
            micros(m).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        }
        fn view(m: <i64 as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            Self::from_repr(m)
        }
        fn accepts(m: <i64 as Column>::Ref<'_>) -> bool {
            micros(m).is_some()
        }
        fn shown(t: OffsetDateTime) -> Option<String> {
            let t = t.to_offset(time::UtcOffset::UTC);
            let date = (t.year(), u8::from(t.month()), t.day());
            Some(iso_utc(date, (t.hour(), t.minute(), t.second()), t.microsecond()))
        }
        /// The form `shown` writes: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
        fn from_json(json: &serde_json::Value) -> Option<Self> {
            let (date, clock) = json.as_str()?.strip_suffix('Z')?.split_once('T')?;
            let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
            let mut parts = hms.splitn(3, ':').map(str::parse::<u8>);
            let (h, m, s) = (parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?);
            if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let nanos: u32 = format!("{fraction:0<9}").parse().ok()?;
            let clock = time::Time::from_hms_nano(h, m, s, nanos).ok()?;
            Some(time::PrimitiveDateTime::new(parse_date(date)?, clock).assume_utc())
        }
    }

    /// `Value::Int`: the microseconds since 1970-01-01 UTC the store holds.
    impl From<OffsetDateTime> for Value<'_> {
        fn from(t: OffsetDateTime) -> Self {
            Value::Int(t.into_repr())
        }
    }

    /// `Value::Int`: the days since 1970-01-01 the store holds.
    impl From<Date> for Value<'_> {
        fn from(d: Date) -> Self {
            Value::Int(d.into_repr())
        }
    }

    impl Timestamp for OffsetDateTime {
        fn from_unix_micros(m: i64) -> Self {
            Self::from_repr(m)
        }
    }

    /// `YYYY-MM-DD` (`-YYYY-MM-DD` before year 0), as `shown` writes a date.
    fn parse_date(s: &str) -> Option<Date> {
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let mut parts = s.splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let year = if negative { -year } else { year };
        let month = time::Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
        Date::from_calendar_date(year, month, parts.next()?.parse().ok()?).ok()
    }

    fn days(d: i64) -> Option<Date> {
        let julian = i32::try_from(d.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()?;
        Date::from_julian_day(julian).ok()
    }

    impl AsColumn for Date {
        type Repr = i64;
        type Ref<'a> = Date;
        const SQL_TYPE: SqlType = SqlType::Date;
        fn into_repr(self) -> i64 {
            i64::from(self.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
        }
        fn from_repr(d: i64) -> Self {
            days(d).unwrap_or(Date::MIN)
        }
        fn view(d: <i64 as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            Self::from_repr(d)
        }
        fn accepts(d: <i64 as Column>::Ref<'_>) -> bool {
            days(d).is_some()
        }
        fn shown(d: Date) -> Option<String> {
            Some(iso_date((d.year(), u8::from(d.month()), d.day())))
        }
        fn from_json(json: &serde_json::Value) -> Option<Self> {
            parse_date(json.as_str()?)
        }
    }
}

#[cfg(feature = "uuid")]
mod uuid_type {
    use super::*;
    use crate::text::Text;
    use uuid::Uuid;

    impl AsColumn for Uuid {
        type Repr = String;
        type Ref<'a> = Uuid;
        const SQL_TYPE: SqlType = SqlType::Uuid;
        fn into_repr(self) -> String {
            self.hyphenated().to_string()
        }
        fn from_repr(s: String) -> Self {
            Uuid::try_parse(&s).unwrap_or_default()
        }
        fn view(s: <String as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            Uuid::try_parse(s.as_str()).unwrap_or_default()
        }
        /// Only the form `into_repr` writes, so equal UUIDs are equal texts.
        fn accepts(s: Text<'_>) -> bool {
            Uuid::try_parse(s.as_str()).is_ok_and(|u| u.hyphenated().to_string() == s.as_str())
        }
        /// Any form PostgreSQL's `uuid` input reads, stored in the form `into_repr` writes.
        fn from_json(json: &serde_json::Value) -> Option<Self> {
            postgres_uuid(json.as_str()?)
        }
    }
}

/// The UUID `s` spells as PostgreSQL's `uuid` input reads one: 32 hex digits in either case,
/// a hyphen allowed after any group of four but the last, the whole optionally in braces
/// (`uuid::Uuid::try_parse` differs: it takes `urn:uuid:` and refuses hyphens elsewhere).
#[cfg(feature = "uuid")]
fn postgres_uuid(s: &str) -> Option<uuid::Uuid> {
    let (braced, mut rest) = match s.strip_prefix('{') {
        Some(inner) => (true, inner.as_bytes()),
        None => (false, s.as_bytes()),
    };
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        let (pair, after) = rest.split_first_chunk::<2>()?;
        let digit = |c: u8| char::from(c).to_digit(16);
        *byte = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
        rest = after;
        if i % 2 == 1 && i < 15 {
            rest = rest.strip_prefix(b"-").unwrap_or(rest);
        }
    }
    if braced {
        rest = rest.strip_prefix(b"}")?;
    }
    rest.is_empty().then(|| uuid::Uuid::from_bytes(bytes))
}

#[cfg(feature = "rust_decimal")]
mod decimal_type {
    use super::*;
    use crate::text::Text;
    use rust_decimal::Decimal;

    fn parse(s: &str) -> Option<Decimal> {
        s.parse().ok()
    }

    impl AsColumn for Decimal {
        type Repr = String;
        type Ref<'a> = Decimal;
        const SQL_TYPE: SqlType = SqlType::Numeric;
        fn into_repr(self) -> String {
            self.to_string()
        }
        fn from_repr(s: String) -> Self {
            parse(&s).unwrap_or_default()
        }
        fn view(s: <String as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            parse(s.as_str()).unwrap_or_default()
        }
        fn accepts(s: Text<'_>) -> bool {
            parse(s.as_str()).is_some_and(|d| d.to_string() == s.as_str())
        }
        const NUMERIC_TEXT: bool = true;
    }
}

#[cfg(feature = "serde_json")]
mod json_type {
    use super::*;
    use crate::text::Text;
    use serde_json::Value as Json;

    /// `v` as JSON with every object's keys sorted: equal documents, equal texts.
    fn canonical(v: &Json, out: &mut String) {
        match v {
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            Json::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Json::String(k.clone()).to_string());
                    out.push(':');
                    canonical(item, out);
                }
                out.push('}');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }

    fn to_text(v: &Json) -> String {
        let mut out = String::new();
        canonical(v, &mut out);
        out
    }

    /// Read as [`Text`]: the canonical JSON (`try_get_owned` parses it).
    impl AsColumn for Json {
        type Repr = String;
        type Ref<'a> = Text<'a>;
        const SQL_TYPE: SqlType = SqlType::Json;
        fn into_repr(self) -> String {
            to_text(&self)
        }
        fn from_repr(s: String) -> Self {
            serde_json::from_str(&s).unwrap_or_default()
        }
        fn view(s: <String as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
            s
        }
        fn accepts(s: Text<'_>) -> bool {
            serde_json::from_str::<Json>(s.as_str()).is_ok_and(|v| to_text(&v) == s.as_str())
        }
        /// The document itself (`{"theme": "dark"}`), or a string holding its text in any
        /// spacing and key order (`to_json` writes the canonical text).
        fn from_json(json: &serde_json::Value) -> Option<Self> {
            match json {
                Json::String(text) => serde_json::from_str(text).ok(),
                document => Some(document.clone()),
            }
        }
    }
}
