//! Role-trust conditions, judged at an instant and from an address.
//!
//! A trust may carry conditions (a time-of-day window in a time zone, days of the week, IP
//! ranges) and an expiry. Without a [`TrustContext`] nothing is judged: answers list the
//! conditions as the snapshot has them. With one, each condition the context can settle is
//! judged, and a trust one of whose conditions fails is not assumable; a condition the
//! context cannot settle (an IP range with no address given, a shape iamsim does not read)
//! leaves the trust assumable, the conservative direction for a question about who may gain
//! access.
//!
//! The shapes read (docs/semantics.md, "Role trusts"): `time_of_day` `{start, end}` in whole
//! hours, `end` exclusive, a window with `start > end` wrapping past midnight, in
//! `time_of_day.timezone` or `timezone` (an IANA name, `UTC`, or an offset such as
//! `+02:00`; UTC when absent); `days_of_week`, a list of day names; `ip_address`, a list of
//! addresses or CIDR ranges; the expiry in the trust's `valid_until` or the condition
//! `date_expires`, RFC 3339.

use std::net::IpAddr;

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use serde_json::Value;

/// When and from where a role would be assumed: what trust conditions are judged against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustContext {
    /// The instant of the assumption (`--at`).
    pub at: Option<Timestamp>,
    /// The address the assumption comes from (`--from`).
    pub from: Option<IpAddr>,
}

impl TrustContext {
    /// Whether the context judges nothing (no instant, no address).
    pub fn is_empty(&self) -> bool {
        self.at.is_none() && self.from.is_none()
    }

    /// The first condition of a trust that fails in this context, in words (`time_of_day
    /// 09–17 UTC: 18:30 is outside`), or `None` when every condition holds or cannot be
    /// settled.
    pub fn refuses(&self, conditions: Option<&Value>, valid_until: Option<&str>) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let expiry = valid_until.map(|v| ("valid_until", v)).or_else(|| {
            conditions
                .and_then(|c| c.get("date_expires"))
                .and_then(Value::as_str)
                .map(|v| ("date_expires", v))
        });
        if let (Some(at), Some((name, text))) = (self.at, expiry) {
            if let Some(failure) = expired(at, name, text) {
                return Some(failure);
            }
        }
        let conditions = conditions?;
        if let Some(at) = self.at {
            let zone = conditions
                .get("time_of_day")
                .and_then(|t| t.get("timezone"))
                .or_else(|| conditions.get("timezone"))
                .and_then(Value::as_str);
            // A zone iamsim cannot read settles nothing that depends on it.
            if let Some(zone) = time_zone(zone) {
                if let Some(window) = conditions.get("time_of_day") {
                    if let Some(failure) = outside_hours(at, &zone.1, &zone.0, window) {
                        return Some(failure);
                    }
                }
                if let Some(days) = conditions.get("days_of_week") {
                    if let Some(failure) = outside_days(at, &zone.1, &zone.0, days) {
                        return Some(failure);
                    }
                }
            }
        }
        if let (Some(from), Some(ranges)) = (self.from, conditions.get("ip_address")) {
            return outside_ranges(from, ranges);
        }
        None
    }
}

fn expired(at: Timestamp, name: &str, text: &str) -> Option<String> {
    let until: Timestamp = text.parse().ok()?;
    (at >= until).then(|| format!("{name} {text}: expired before {at}"))
}

/// The zone's name as shown, and the zone; `None` for a name that is not a zone.
fn time_zone(name: Option<&str>) -> Option<(String, TimeZone)> {
    let Some(name) = name else {
        return Some(("UTC".to_string(), TimeZone::UTC));
    };
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Some(("UTC".to_string(), TimeZone::UTC));
    }
    if let Some(offset) = parse_offset(name) {
        return Some((name.to_string(), TimeZone::fixed(offset)));
    }
    TimeZone::get(name)
        .ok()
        .map(|zone| (name.to_string(), zone))
}

/// `+HH:MM`, `-HH:MM`, `+HH` (also after `UTC`).
fn parse_offset(text: &str) -> Option<Offset> {
    let text = text.strip_prefix("UTC").unwrap_or(text);
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

fn outside_hours(at: Timestamp, zone: &TimeZone, name: &str, window: &Value) -> Option<String> {
    let hour = |key: &str| window.get(key).and_then(Value::as_u64).filter(|&h| h <= 24);
    let (start, end) = (hour("start")?, hour("end")?);
    let local = zone.to_datetime(at);
    let now = u64::try_from(local.hour()).unwrap_or(0);
    let inside = match start.cmp(&end) {
        std::cmp::Ordering::Less => (start..end).contains(&now),
        std::cmp::Ordering::Greater => now >= start || now < end,
        // An empty window reads as no restriction: nothing says otherwise.
        std::cmp::Ordering::Equal => true,
    };
    (!inside).then(|| {
        format!(
            "time_of_day {start:02}–{end:02} {name}: {:02}:{:02} is outside",
            local.hour(),
            local.minute()
        )
    })
}

fn outside_days(at: Timestamp, zone: &TimeZone, name: &str, days: &Value) -> Option<String> {
    use jiff::civil::Weekday::*;
    const DAYS: [(&str, jiff::civil::Weekday); 7] = [
        ("monday", Monday),
        ("tuesday", Tuesday),
        ("wednesday", Wednesday),
        ("thursday", Thursday),
        ("friday", Friday),
        ("saturday", Saturday),
        ("sunday", Sunday),
    ];
    let listed: Vec<&(&str, jiff::civil::Weekday)> = days
        .as_array()?
        .iter()
        .map(|d| {
            let d = d.as_str()?.to_ascii_lowercase();
            DAYS.iter()
                .find(|(n, _)| *n == d || (d.len() >= 3 && n.starts_with(&d)))
        })
        .collect::<Option<_>>()?;
    let today = zone.to_datetime(at).weekday();
    (!listed.iter().any(|(_, day)| *day == today)).then(|| {
        let names: Vec<&str> = listed.iter().map(|(n, _)| &n[..3]).collect();
        let today = DAYS
            .iter()
            .find(|(_, day)| *day == today)
            .map_or("", |(n, _)| n);
        format!(
            "days_of_week [{}] {name}: {today} is not one of them",
            names.join(", ")
        )
    })
}

fn outside_ranges(from: IpAddr, ranges: &Value) -> Option<String> {
    let texts: Vec<&str> = match ranges {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().map(Value::as_str).collect::<Option<_>>()?,
        _ => return None,
    };
    let mut any = false;
    for text in &texts {
        // A range iamsim cannot read might admit the address: nothing is settled.
        if in_range(from, text)? {
            any = true;
        }
    }
    (!any).then(|| format!("ip_address [{}]: {from} is outside", texts.join(", ")))
}

/// Whether `addr` lies in `range` (an address, or CIDR), `None` when `range` does not parse.
fn in_range(addr: IpAddr, range: &str) -> Option<bool> {
    let (base, bits) = match range.split_once('/') {
        Some((base, bits)) => (base, Some(bits.parse::<u32>().ok()?)),
        None => (range, None),
    };
    let base: IpAddr = base.trim().parse().ok()?;
    let (a, b, width) = match (addr, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        (IpAddr::V6(a), IpAddr::V4(_)) => match a.to_ipv4_mapped() {
            Some(a) => return in_range(IpAddr::V4(a), range),
            None => return Some(false),
        },
        (IpAddr::V4(a), IpAddr::V6(_)) => return in_range(IpAddr::V6(a.to_ipv6_mapped()), range),
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return None;
    }
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits) >> (128 - width)
    };
    Some(a & mask == b & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> TrustContext {
        TrustContext {
            at: Some(text.parse().unwrap()),
            from: None,
        }
    }

    fn from(ip: &str) -> TrustContext {
        TrustContext {
            at: None,
            from: Some(ip.parse().unwrap()),
        }
    }

    #[test]
    fn no_context_judges_nothing() {
        let c = json!({"time_of_day": {"start": 9, "end": 17}, "ip_address": ["10.0.0.0/8"]});
        assert_eq!(
            TrustContext::default().refuses(Some(&c), Some("2000-01-01T00:00:00Z")),
            None
        );
    }

    #[test]
    fn hours_in_the_trusts_zone_end_exclusive_and_wrapping() {
        let c = json!({"time_of_day": {"start": 9, "end": 17, "timezone": "Europe/Paris"}});
        // 07:30 UTC is 08:30 in Paris in winter: outside; 08:30 UTC is 09:30: inside.
        assert_eq!(
            at("2026-01-05T07:30:00Z")
                .refuses(Some(&c), None)
                .as_deref(),
            Some("time_of_day 09–17 Europe/Paris: 08:30 is outside")
        );
        assert_eq!(at("2026-01-05T08:30:00Z").refuses(Some(&c), None), None);
        // 16:00 UTC is 17:00 in Paris: the end hour is outside.
        assert!(at("2026-01-05T16:00:00Z").refuses(Some(&c), None).is_some());
        // In summer Paris is UTC+2: 07:30 UTC is 09:30, inside.
        assert_eq!(at("2026-07-06T07:30:00Z").refuses(Some(&c), None), None);
        let night = json!({"time_of_day": {"start": 22, "end": 6}});
        assert_eq!(at("2026-01-05T23:00:00Z").refuses(Some(&night), None), None);
        assert_eq!(at("2026-01-05T03:00:00Z").refuses(Some(&night), None), None);
        assert!(at("2026-01-05T12:00:00Z")
            .refuses(Some(&night), None)
            .is_some());
    }

    #[test]
    fn offsets_and_utc() {
        let c = json!({"time_of_day": {"start": 9, "end": 17}, "timezone": "-05:00"});
        assert!(at("2026-01-05T10:00:00Z").refuses(Some(&c), None).is_some());
        assert_eq!(at("2026-01-05T15:00:00Z").refuses(Some(&c), None), None);
        let utc = json!({"time_of_day": {"start": 9, "end": 17}});
        assert_eq!(at("2026-01-05T10:00:00Z").refuses(Some(&utc), None), None);
    }

    #[test]
    fn an_unknown_zone_settles_nothing() {
        let c = json!({"time_of_day": {"start": 9, "end": 17}, "timezone": "Mars/Olympus"});
        assert_eq!(at("2026-01-05T02:00:00Z").refuses(Some(&c), None), None);
    }

    #[test]
    fn days_of_week() {
        let c = json!({"days_of_week": ["Monday", "tue"]});
        // 2026-01-05 is a Monday; 2026-01-07 a Wednesday.
        assert_eq!(at("2026-01-05T12:00:00Z").refuses(Some(&c), None), None);
        assert_eq!(
            at("2026-01-07T12:00:00Z")
                .refuses(Some(&c), None)
                .as_deref(),
            Some("days_of_week [mon, tue] UTC: wednesday is not one of them")
        );
        let odd = json!({"days_of_week": [1, 2]});
        assert_eq!(at("2026-01-07T12:00:00Z").refuses(Some(&odd), None), None);
    }

    #[test]
    fn ip_ranges() {
        let c = json!({"ip_address": ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]});
        assert_eq!(from("10.1.2.3").refuses(Some(&c), None), None);
        assert_eq!(from("192.0.2.7").refuses(Some(&c), None), None);
        assert_eq!(from("2001:db8::1").refuses(Some(&c), None), None);
        assert_eq!(from("::ffff:10.9.9.9").refuses(Some(&c), None), None);
        assert_eq!(
            from("192.0.2.8").refuses(Some(&c), None).as_deref(),
            Some("ip_address [10.0.0.0/8, 192.0.2.7, 2001:db8::/32]: 192.0.2.8 is outside")
        );
        let any = json!({"ip_address": ["0.0.0.0/0"]});
        assert_eq!(from("203.0.113.9").refuses(Some(&any), None), None);
        let bad = json!({"ip_address": ["10.0.0.0/99"]});
        assert_eq!(from("203.0.113.9").refuses(Some(&bad), None), None);
        // No address given: the range settles nothing.
        assert_eq!(at("2026-01-05T12:00:00Z").refuses(Some(&c), None), None);
    }

    #[test]
    fn expiry() {
        let ctx = at("2026-01-05T12:00:00Z");
        assert_eq!(
            ctx.refuses(None, Some("2026-01-01T00:00:00+00:00"))
                .as_deref(),
            Some("valid_until 2026-01-01T00:00:00+00:00: expired before 2026-01-05T12:00:00Z")
        );
        assert_eq!(ctx.refuses(None, Some("2027-01-01T00:00:00Z")), None);
        let c = json!({"date_expires": "2025-12-31T05:00:00+00:00"});
        assert!(ctx.refuses(Some(&c), None).is_some());
        assert_eq!(ctx.refuses(None, Some("someday")), None);
    }
}
