//! The list filter: the AIP-160 subset the API accepts (reference §4 "Filter grammar").
//!
//! `member op "literal"` comparisons with `>=` and `<`, joined by `AND` (and `OR` for sleep). As in
//! AIP-160, `OR` binds tighter than `AND`: `a AND b OR c` means `a AND (b OR c)`. Members use the
//! snake_case type name; anything else is answered with the reference's 400 bodies.

use super::types::{Record, RecordKind, SimType};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coord {
    Start,
    CivilStart,
    End,
    CivilEnd,
    Date,
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Instant(DateTime<Utc>),
    Civil(NaiveDateTime),
    Date(NaiveDate),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    coord: Coord,
    at_least: bool,
    literal: Literal,
}

/// A parsed filter: every group must hold; a group holds when any of its comparisons does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    groups: Vec<Vec<Comparison>>,
}

/// Why a filter was refused: the reason code, the detailed reasons and field-violation descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub detailed: Vec<&'static str>,
    pub violations: Vec<String>,
}

fn members(t: &SimType) -> Vec<(String, Coord)> {
    let p = t.filter_prefix;
    match t.kind {
        RecordKind::Sample => vec![
            (format!("{p}.sample_time.physical_time"), Coord::Start),
            (format!("{p}.sample_time.civil_time"), Coord::CivilStart),
        ],
        RecordKind::Interval => vec![
            (format!("{p}.interval.start_time"), Coord::Start),
            (format!("{p}.interval.civil_start_time"), Coord::CivilStart),
        ],
        RecordKind::Daily => vec![(format!("{p}.date"), Coord::Date)],
        RecordKind::ExerciseSession => {
            vec![(format!("{p}.interval.civil_start_time"), Coord::CivilStart)]
        }
        RecordKind::SleepSession => vec![
            (format!("{p}.interval.end_time"), Coord::End),
            (format!("{p}.interval.civil_end_time"), Coord::CivilEnd),
        ],
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String, usize),
    Op(bool, usize),
    Str(String, usize),
}

fn syntax(msg: String) -> FilterError {
    FilterError {
        detailed: vec!["INVALID_DATA_POINT_FILTER_SYNTAX"],
        violations: vec![msg],
    }
}

fn tokenize(s: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() || c == '(' || c == ')' {
            // Parentheses only group; AND/OR precedence already gives the only meaningful nesting.
            i += 1;
        } else if c == '>' && chars.get(i + 1) == Some(&'=') {
            out.push(Token::Op(true, col));
            i += 2;
        } else if c == '<' && chars.get(i + 1) != Some(&'=') {
            out.push(Token::Op(false, col));
            i += 1;
        } else if c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|&c| c == '"')
                .ok_or_else(|| {
                    syntax(format!(
                        "Unterminated string literal. (at line 1, column {col})"
                    ))
                })?;
            out.push(Token::Str(chars[i + 1..i + 1 + end].iter().collect(), col));
            i += end + 2;
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "_.-".contains(chars[i])) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect(), col));
        } else {
            return Err(syntax(format!(
                "Unexpected character '{c}'. (at line 1, column {col})"
            )));
        }
    }
    Ok(out)
}

pub fn parse(text: &str, t: &SimType) -> Result<Filter, FilterError> {
    let tokens = tokenize(text)?;
    let known = members(t);
    let mut groups: Vec<Vec<Comparison>> = vec![Vec::new()];
    let mut unknown = Vec::new();
    let mut used_or = false;
    let mut i = 0;
    while i < tokens.len() {
        let (member, col) = match &tokens[i] {
            Token::Word(w, c) => (w.clone(), *c),
            other => {
                return Err(syntax(format!(
                    "Expected a member name. (at line 1, column {})",
                    col_of(other)
                )))
            }
        };
        let (at_least, lit) = match (tokens.get(i + 1), tokens.get(i + 2)) {
            (Some(Token::Op(ge, _)), Some(Token::Str(lit, _))) => (*ge, lit.clone()),
            _ => return Err(syntax(format!("Expected '>=' or '<' and a quoted value after '{member}'. (at line 1, column {col})"))),
        };
        i += 3;
        match known.iter().find(|(m, _)| *m == member) {
            None => unknown.push(format!(
                "Member '{member}' is not supported for filtering. (at line 1, column {col})"
            )),
            Some((_, coord)) => {
                let literal = parse_literal(*coord, &lit).ok_or_else(|| FilterError {
                    detailed: vec!["INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE"],
                    violations: vec![format!("Value '{lit}' cannot be compared with member '{member}'. (at line 1, column {col})")],
                })?;
                groups.last_mut().expect("one group").push(Comparison {
                    coord: *coord,
                    at_least,
                    literal,
                });
            }
        }
        match tokens.get(i) {
            None => break,
            Some(Token::Word(w, _)) if w == "AND" => groups.push(Vec::new()),
            Some(Token::Word(w, _)) if w == "OR" => used_or = true,
            Some(other) => {
                return Err(syntax(format!(
                    "Expected AND or OR. (at line 1, column {})",
                    col_of(other)
                )))
            }
        }
        i += 1;
        if i >= tokens.len() {
            return Err(syntax(
                "Unexpected end of input. (at line 1, column 1)".into(),
            ));
        }
    }
    if !unknown.is_empty() {
        return Err(FilterError {
            detailed: vec!["INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"; unknown.len()],
            violations: unknown,
        });
    }
    if used_or && t.kind != RecordKind::SleepSession {
        return Err(FilterError {
            detailed: vec!["INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE"],
            violations: vec![format!(
                "OR is not supported for filtering {}. (at line 1, column 1)",
                t.name
            )],
        });
    }
    groups.retain(|g| !g.is_empty());
    Ok(Filter { groups })
}

fn col_of(t: &Token) -> usize {
    match t {
        Token::Word(_, c) | Token::Op(_, c) | Token::Str(_, c) => *c,
    }
}

fn parse_literal(coord: Coord, s: &str) -> Option<Literal> {
    match coord {
        Coord::Start | Coord::End => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Literal::Instant(t.with_timezone(&Utc))),
        Coord::CivilStart | Coord::CivilEnd => {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .or_else(|| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })
                .map(Literal::Civil)
        }
        Coord::Date => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Literal::Date),
    }
}

impl Comparison {
    fn holds(&self, r: &Record, civil_filters_match: bool) -> bool {
        use std::cmp::Ordering;
        let ord: Option<Ordering> = match (&self.literal, self.coord) {
            (Literal::Instant(t), Coord::Start) => Some(r.start.cmp(t)),
            (Literal::Instant(t), Coord::End) => Some(r.end.cmp(t)),
            (Literal::Civil(_), _) if !civil_filters_match => None,
            (Literal::Civil(t), Coord::CivilStart) => Some(r.civil_start.cmp(t)),
            (Literal::Civil(t), Coord::CivilEnd) => Some(r.civil_end.cmp(t)),
            (Literal::Date(d), Coord::Date) => r.date.map(|rd| rd.cmp(d)),
            _ => None,
        };
        match ord {
            None => false,
            Some(o) if self.at_least => o != Ordering::Less,
            Some(o) => o == Ordering::Less,
        }
    }

    /// The instant this comparison bounds, as a UTC instant (civil values read as UTC ± a day).
    fn bound(&self) -> DateTime<Utc> {
        match &self.literal {
            Literal::Instant(t) => *t,
            Literal::Civil(c) => c.and_utc(),
            Literal::Date(d) => d.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
        }
    }
}

impl Filter {
    pub fn matches(&self, r: &Record, t: &SimType) -> bool {
        self.groups
            .iter()
            .all(|g| g.iter().any(|c| c.holds(r, t.civil_filters_match)))
    }

    /// The widest instant range the filter can match, from the groups that are plain bounds, widened
    /// by two days to cover UTC offsets and sessions; the list walks only these days.
    pub fn instant_range(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let margin = chrono::Duration::days(2);
        let mut lo = None;
        let mut hi = None;
        for g in &self.groups {
            if g.iter().all(|c| c.at_least) {
                let b = g.iter().map(|c| c.bound()).min().expect("non-empty") - margin;
                lo = Some(lo.map_or(b, |l: DateTime<Utc>| l.max(b)));
            } else if g.iter().all(|c| !c.at_least) {
                let b = g.iter().map(|c| c.bound()).max().expect("non-empty") + margin;
                hi = Some(hi.map_or(b, |h: DateTime<Utc>| h.min(b)));
            }
        }
        (lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::types::find;

    #[test]
    fn parses_and_or_with_aip160_precedence() {
        let sleep = find("sleep").unwrap();
        let f = parse(
            r#"sleep.interval.end_time >= "2026-01-01T00:00:00Z" AND sleep.interval.end_time < "2026-01-02T00:00:00Z" OR sleep.interval.civil_end_time < "2026-01-03""#,
            sleep,
        )
        .unwrap();
        assert_eq!(f.groups.len(), 2);
        assert_eq!(f.groups[1].len(), 2);
    }

    #[test]
    fn unknown_members_are_all_reported_with_columns() {
        let rhr = find("daily-resting-heart-rate").unwrap();
        let e = parse(
            r#"daily_resting_heart_rate.interval.civil_start_time >= "2026-01-01" AND daily_resting_heart_rate.interval.civil_start_time < "2026-01-05""#,
            rhr,
        )
        .unwrap_err();
        assert_eq!(
            e.detailed,
            vec!["INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"; 2]
        );
        assert_eq!(
            e.violations[0],
            "Member 'daily_resting_heart_rate.interval.civil_start_time' is not supported for filtering. (at line 1, column 1)"
        );
        assert!(
            e.violations[1].ends_with("(at line 1, column 72)"),
            "{}",
            e.violations[1]
        );
    }

    #[test]
    fn hyphenated_type_names_and_or_outside_sleep_are_refused() {
        let steps = find("steps").unwrap();
        assert!(parse(r#"steps.interval.start_time >= "2026-01-01T00:00:00Z" OR steps.interval.start_time < "2026-01-01T00:00:00Z""#, steps).is_err());
        let hr = find("heart-rate").unwrap();
        let e = parse(
            r#"heart-rate.sample_time.physical_time >= "2026-01-01T00:00:00Z""#,
            hr,
        )
        .unwrap_err();
        assert_eq!(
            e.detailed,
            vec!["INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"]
        );
    }
}
