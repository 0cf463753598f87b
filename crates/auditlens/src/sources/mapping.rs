//! Mapping files: a team onboards its own JSON source without code by writing, in TOML, which JSON pointers give
//! each normalized field and which rules give the category (and privilege). `seal --mapping FILE` puts the file
//! inside the signed archive (entry `mapping.toml`, docs/archive-format.md), and the importer and `check` read
//! events of kind `mapping` with the mapping the archive carries, never one supplied at import time. The format
//! is specified in `docs/sources.md`, "Mapping files".

use std::collections::BTreeMap;

use crate::json::Node;
use serde::Deserialize;

use super::{CATEGORIES, Normalized, OUTCOMES, PRIVILEGES, epoch_units, text};

/// The only mapping-file version.
pub const MAPPING_VERSION: u32 = 1;
/// Most pointers one field may list.
pub const MAX_POINTERS: usize = 64;
/// Most rules one file may hold.
pub const MAX_RULES: usize = 1000;

/// What is wrong with a mapping file (with the TOML parser's message and position when it is the syntax).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MappingError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, MappingError> {
    Err(MappingError(msg.into()))
}

/// The file as written (every table and key is checked: unknown keys are errors).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    name: String,
    #[serde(default)]
    time_format: Option<String>,
    fields: Fields,
    #[serde(default)]
    outcomes: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    rule: Vec<RuleFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Fields {
    #[serde(default)]
    time: Vec<String>,
    #[serde(default)]
    actor: Vec<String>,
    #[serde(default)]
    action: Vec<String>,
    #[serde(default)]
    resource: Vec<String>,
    #[serde(default)]
    outcome: Vec<String>,
    #[serde(default)]
    ip: Vec<String>,
    #[serde(default)]
    agent: Vec<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    stage: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    category: String,
    #[serde(default)]
    privilege: Option<String>,
    when: Vec<ConditionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionFile {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    pointer: Option<String>,
    #[serde(default)]
    equals: Option<Vec<String>>,
    #[serde(default)]
    prefix: Option<Vec<String>>,
    #[serde(default)]
    present: Option<bool>,
}

/// How time values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Strings under the time grammar of docs/sources.md section 2.
    Rfc3339,
    /// JSON integers of milliseconds since the epoch.
    UnixMs,
    /// JSON integers of seconds since the epoch.
    UnixS,
}

/// A normalized text field a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldName {
    Actor,
    Action,
    Resource,
    Outcome,
    Ip,
    Agent,
    Env,
    Stage,
}

impl FieldName {
    fn parse(name: &str) -> Option<FieldName> {
        Some(match name {
            "actor" => FieldName::Actor,
            "action" => FieldName::Action,
            "resource" => FieldName::Resource,
            "outcome" => FieldName::Outcome,
            "ip" => FieldName::Ip,
            "agent" => FieldName::Agent,
            "env" => FieldName::Env,
            "stage" => FieldName::Stage,
            _ => return None,
        })
    }

    fn of(self, n: &Normalized) -> Option<&str> {
        match self {
            FieldName::Actor => n.actor.as_deref(),
            FieldName::Action => n.action.as_deref(),
            FieldName::Resource => n.resource.as_deref(),
            FieldName::Outcome => n.outcome.as_deref(),
            FieldName::Ip => n.ip.as_deref(),
            FieldName::Agent => n.agent.as_deref(),
            FieldName::Env => n.env.as_deref(),
            FieldName::Stage => n.stage.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    Field(FieldName),
    Pointer(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    Equals(Vec<String>),
    Prefix(Vec<String>),
    Present(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    subject: Subject,
    test: Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    category: &'static str,
    privilege: Option<&'static str>,
    when: Vec<Condition>,
}

/// A compiled mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    name: String,
    time_format: TimeFormat,
    time: Vec<String>,
    actor: Vec<String>,
    action: Vec<String>,
    resource: Vec<String>,
    outcome: Vec<String>,
    ip: Vec<String>,
    agent: Vec<String>,
    env: Vec<String>,
    stage: Vec<String>,
    /// Lowercased word -> outcome; `None` means the built-in word list of the `jsonl` rules.
    outcomes: Option<BTreeMap<String, &'static str>>,
    rules: Vec<Rule>,
}

/// The category order of docs/sources.md: the first category with a matching rule wins.
const ORDER: [&str; 4] = ["deployment", "access", "change", "read"];

fn vocabulary(list: &[&'static str], word: &str, what: &str) -> Result<&'static str, MappingError> {
    list.iter().find(|w| **w == word).copied().ok_or_else(|| {
        MappingError(format!(
            "unknown {what} {word:?} (expected one of: {})",
            list.join(", ")
        ))
    })
}

/// A JSON pointer (RFC 6901): empty, or `/` followed by reference tokens in which `~` is always `~0` or `~1`.
fn check_pointer(p: &str, where_: &str) -> Result<(), MappingError> {
    if !(p.is_empty() || p.starts_with('/')) {
        return err(format!(
            "{where_}: {p:?} is not a JSON pointer (it must start with `/`)"
        ));
    }
    let b = p.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'~' && !matches!(b.get(i + 1), Some(b'0' | b'1')) {
            return err(format!(
                "{where_}: {p:?}: `~` must be followed by 0 or 1 (RFC 6901)"
            ));
        }
    }
    Ok(())
}

fn pointers(list: Vec<String>, field: &str) -> Result<Vec<String>, MappingError> {
    if list.len() > MAX_POINTERS {
        return err(format!("fields.{field}: more than {MAX_POINTERS} pointers"));
    }
    for p in &list {
        check_pointer(p, &format!("fields.{field}"))?;
    }
    Ok(list)
}

/// Mapping names: 1 to 64 characters `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or digit.
fn check_name(name: &str) -> Result<(), MappingError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        err(format!(
            "name {name:?}: 1 to 64 characters a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        ))
    }
}

fn nonempty_list(list: Vec<String>, what: &str) -> Result<Vec<String>, MappingError> {
    if list.is_empty() {
        return err(format!("{what}: the list is empty"));
    }
    if list.iter().any(String::is_empty) {
        return err(format!(
            "{what}: an empty string never matches (missing values are never \"\")"
        ));
    }
    Ok(list)
}

impl Mapping {
    /// Parses and checks a mapping file (UTF-8 TOML). Every error names what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Mapping, MappingError> {
        let text =
            std::str::from_utf8(bytes).map_err(|e| MappingError(format!("not UTF-8: {e}")))?;
        let file: File =
            toml::from_str(text).map_err(|e| MappingError(e.to_string().trim_end().to_owned()))?;
        if file.version != MAPPING_VERSION {
            return err(format!(
                "version {} is not supported (expected {MAPPING_VERSION})",
                file.version
            ));
        }
        check_name(&file.name)?;
        let time_format = match file.time_format.as_deref() {
            None | Some("rfc3339") => TimeFormat::Rfc3339,
            Some("unix_ms") => TimeFormat::UnixMs,
            Some("unix_s") => TimeFormat::UnixS,
            Some(other) => {
                return err(format!(
                    "time_format {other:?} (expected rfc3339, unix_ms or unix_s)"
                ));
            }
        };
        let outcomes = match file.outcomes {
            None => None,
            Some(table) => {
                let mut words = BTreeMap::new();
                for (outcome, list) in table {
                    let outcome = vocabulary(&OUTCOMES, &outcome, "outcome")?;
                    for word in nonempty_list(list, &format!("outcomes.{outcome}"))? {
                        if words.insert(word.to_ascii_lowercase(), outcome).is_some() {
                            return err(format!("outcomes: the word {word:?} is listed twice"));
                        }
                    }
                }
                Some(words)
            }
        };
        if file.rule.len() > MAX_RULES {
            return err(format!("more than {MAX_RULES} rules"));
        }
        let mut rules = Vec::with_capacity(file.rule.len());
        for (i, r) in file.rule.into_iter().enumerate() {
            let at = format!("rule {} ([[rule]] number {})", i + 1, i + 1);
            let category = vocabulary(&CATEGORIES, &r.category, "category")
                .map_err(|e| MappingError(format!("{at}: {e}")))?;
            if category == "other" {
                return err(format!(
                    "{at}: `other` is what no rule matched; it needs no rule"
                ));
            }
            let privilege = match r.privilege.as_deref() {
                None => None,
                Some(p) => {
                    if category != "access" {
                        return err(format!("{at}: a privilege is only given by an access rule"));
                    }
                    Some(
                        vocabulary(&PRIVILEGES, p, "privilege")
                            .map_err(|e| MappingError(format!("{at}: {e}")))?,
                    )
                }
            };
            if r.when.is_empty() {
                return err(format!("{at}: `when` lists no condition"));
            }
            let mut when = Vec::with_capacity(r.when.len());
            for (j, c) in r.when.into_iter().enumerate() {
                let cat = format!("{at}, condition {}", j + 1);
                let subject = match (c.field, c.pointer) {
                    (Some(f), None) => Subject::Field(FieldName::parse(&f).ok_or_else(|| {
                        MappingError(format!(
                            "{cat}: unknown field {f:?} (expected actor, action, resource, outcome, ip, agent, env or stage)"
                        ))
                    })?),
                    (None, Some(p)) => {
                        check_pointer(&p, &cat)?;
                        Subject::Pointer(p)
                    }
                    _ => return err(format!("{cat}: give exactly one of `field` and `pointer`")),
                };
                let test = match (c.equals, c.prefix, c.present) {
                    (Some(list), None, None) => Test::Equals(nonempty_list(list, &cat)?),
                    (None, Some(list), None) => Test::Prefix(nonempty_list(list, &cat)?),
                    (None, None, Some(b)) => Test::Present(b),
                    _ => {
                        return err(format!(
                            "{cat}: give exactly one of `equals`, `prefix` and `present`"
                        ));
                    }
                };
                when.push(Condition { subject, test });
            }
            rules.push(Rule {
                category,
                privilege,
                when,
            });
        }
        let f = file.fields;
        Ok(Mapping {
            name: file.name,
            time_format,
            time: pointers(f.time, "time")?,
            actor: pointers(f.actor, "actor")?,
            action: pointers(f.action, "action")?,
            resource: pointers(f.resource, "resource")?,
            outcome: pointers(f.outcome, "outcome")?,
            ip: pointers(f.ip, "ip")?,
            agent: pointers(f.agent, "agent")?,
            env: pointers(f.env, "env")?,
            stage: pointers(f.stage, "stage")?,
            outcomes,
            rules,
        })
    }

    /// The mapping's `name` (the store's `source` is `mapping:NAME`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first of the `time` pointers that gives a time under `time_format`.
    pub fn time<'t, N: Node<'t>>(&self, event: &N) -> Option<i64> {
        self.time.iter().find_map(|p| {
            let v = event.pointer(p);
            match self.time_format {
                TimeFormat::Rfc3339 => v.and_then(N::str).and_then(crate::time::parse_rfc3339),
                TimeFormat::UnixMs => epoch_units(v, 1000),
                TimeFormat::UnixS => epoch_units(v, 1_000_000),
            }
        })
    }

    fn first<'t, N: Node<'t>>(event: &N, list: &[String]) -> Option<String> {
        list.iter().find_map(|p| text(event.pointer(p)))
    }

    /// The first of the `outcome` pointers whose text is a listed word (ASCII case-insensitively).
    fn outcome<'t, N: Node<'t>>(&self, event: &N) -> Option<&'static str> {
        self.outcome.iter().find_map(|p| {
            let word = text(event.pointer(p))?;
            match &self.outcomes {
                Some(words) => words.get(&word.to_ascii_lowercase()).copied(),
                None => super::generic::outcome_word(&word),
            }
        })
    }

    /// Normalizes one event with this mapping.
    pub fn normalize<'t, N: Node<'t>>(&self, event: &N) -> Normalized {
        let mut n = Normalized {
            ts: self.time(event),
            actor: Self::first(event, &self.actor),
            action: Self::first(event, &self.action),
            resource: Self::first(event, &self.resource),
            outcome: self.outcome(event).map(str::to_owned),
            ip: Self::first(event, &self.ip),
            agent: Self::first(event, &self.agent),
            env: Self::first(event, &self.env),
            stage: Self::first(event, &self.stage),
            category: None,
            privilege: None,
        };
        let matches = |rule: &Rule| rule.when.iter().all(|c| c.holds(event, &n));
        let decided = ORDER.iter().find_map(|category| {
            self.rules
                .iter()
                .find(|r| r.category == *category && matches(r))
                .map(|r| (r.category, r.privilege))
        });
        let (category, privilege) = decided.unwrap_or(("other", None));
        n.category = Some(category.to_owned());
        n.privilege = privilege.map(str::to_owned);
        n
    }
}

impl Condition {
    fn holds<'t, N: Node<'t>>(&self, event: &N, n: &Normalized) -> bool {
        let owned;
        let value: Option<&str> = match &self.subject {
            Subject::Field(f) => f.of(n),
            Subject::Pointer(p) => {
                owned = text(event.pointer(p));
                owned.as_deref()
            }
        };
        match &self.test {
            Test::Present(want) => value.is_some() == *want,
            Test::Equals(list) => value.is_some_and(|v| list.iter().any(|w| w == v)),
            Test::Prefix(list) => {
                value.is_some_and(|v| list.iter().any(|w| v.starts_with(w.as_str())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VPN: &str = r#"
version = 1
name = "acme-vpn"
time_format = "unix_ms"

[fields]
time = ["/ts", "/meta/ts"]
actor = ["/user/email", "/user/id"]
action = ["/event"]
resource = ["/gateway"]
outcome = ["/result"]
ip = ["/client/ip"]
env = ["/site"]

[outcomes]
success = ["ok", "accepted"]
denied = ["rejected"]

[[rule]]
category = "access"
privilege = "login"
when = [{ field = "action", equals = ["session.open"] }]

[[rule]]
category = "access"
when = [{ field = "outcome", equals = ["denied"] }]

[[rule]]
category = "deployment"
when = [{ pointer = "/kind", prefix = ["release."] }, { field = "actor", present = true }]
"#;

    #[test]
    fn a_mapping_reads_pointers_with_fallbacks_and_rules_in_category_order() {
        let m = Mapping::parse(VPN.as_bytes()).unwrap();
        assert_eq!(m.name(), "acme-vpn");
        let n = m.normalize(&json!({"meta": {"ts": 1714521600000u64}, "user": {"id": 7},
            "event": "session.open", "result": "OK", "client": {"ip": "2001:db8::1"}, "site": "ams"}));
        assert_eq!(n.ts, Some(1_714_521_600_000_000));
        assert_eq!(n.actor.as_deref(), Some("7"));
        assert_eq!(n.outcome.as_deref(), Some("success"));
        assert_eq!(n.category.as_deref(), Some("access"));
        assert_eq!(n.privilege.as_deref(), Some("login"));
        assert_eq!(n.resource, None);
        // Deployment comes before access, whatever the file order.
        let d = m.normalize(
            &json!({"kind": "release.done", "user": {"email": "a@x"}, "result": "rejected"}),
        );
        assert_eq!(d.category.as_deref(), Some("deployment"));
        assert_eq!(d.outcome.as_deref(), Some("denied"));
        assert_eq!(d.privilege, None);
        // Without an actor the deployment rule fails; the denial makes it access.
        let a = m.normalize(&json!({"kind": "release.done", "result": "rejected"}));
        assert_eq!(a.category.as_deref(), Some("access"));
        let o = m.normalize(&json!({"result": "maybe"}));
        assert_eq!((o.category.as_deref(), o.outcome), (Some("other"), None));
    }

    #[test]
    fn bad_mapping_files_are_refused_with_a_reason() {
        let base = "version = 1\nname = \"x\"\n[fields]\n";
        let bad = [
            ("version = 2\nname = \"x\"\n[fields]\n", "version 2"),
            ("version = 1\nname = \"X y\"\n[fields]\n", "name"),
            (&format!("{base}actor = [\"user\"]\n"), "JSON pointer"),
            (&format!("{base}actor = [\"/a~2\"]\n"), "~"),
            (&format!("{base}colour = [\"/a\"]\n"), "unknown field"),
            (
                &format!(
                    "{base}[[rule]]\ncategory = \"nice\"\nwhen = [{{ field = \"actor\", present = true }}]\n"
                ),
                "unknown category",
            ),
            (
                &format!(
                    "{base}[[rule]]\ncategory = \"change\"\nprivilege = \"login\"\nwhen = [{{ field = \"actor\", present = true }}]\n"
                ),
                "only given by an access rule",
            ),
            (
                &format!("{base}[[rule]]\ncategory = \"read\"\nwhen = []\n"),
                "no condition",
            ),
            (
                &format!(
                    "{base}[[rule]]\ncategory = \"read\"\nwhen = [{{ field = \"actor\", pointer = \"/a\", present = true }}]\n"
                ),
                "exactly one of `field`",
            ),
            (
                &format!(
                    "{base}[[rule]]\ncategory = \"read\"\nwhen = [{{ field = \"time\", present = true }}]\n"
                ),
                "unknown field",
            ),
            (
                &format!(
                    "{base}[[rule]]\ncategory = \"read\"\nwhen = [{{ field = \"actor\", equals = [] }}]\n"
                ),
                "empty",
            ),
            (
                "version = 1\nname = \"x\"\ntime_format = \"iso\"\n[fields]\n",
                "time_format",
            ),
            (
                "version = 1\nname = \"x\"\n[fields]\n[outcomes]\nmaybe = [\"m\"]\n",
                "unknown outcome",
            ),
            ("not toml", ""),
            ("version = 1\nname = \"x\"\n", "fields"),
        ];
        for (text, needle) in bad {
            let e = Mapping::parse(text.as_bytes()).expect_err(text);
            assert!(e.0.contains(needle), "{text}: {e}");
        }
        assert!(Mapping::parse(b"\xff").is_err());
        assert!(Mapping::parse(base.as_bytes()).is_ok());
    }
}
