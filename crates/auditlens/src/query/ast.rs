//! The query tree: [`Query`], the [`Field`]s a `field:value` term can name, and [`QueryError`].

/// A parsed query. Times are microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Matches every event (the empty query).
    All,
    /// Every part matches.
    And(Vec<Query>),
    /// At least one part matches.
    Or(Vec<Query>),
    /// The inner query does not match.
    Not(Box<Query>),
    /// Full text over the raw event: `text` as written (without quotes or the final `*`), `prefix` when the
    /// last token is a prefix, `phrase` when it was written in quotes.
    Text {
        text: String,
        prefix: bool,
        phrase: bool,
    },
    /// A normalized column equals `value` (ASCII case-insensitively), or starts with it when `prefix`; an
    /// empty `value` with `prefix` means the column is present.
    Field {
        field: Field,
        value: String,
        prefix: bool,
    },
    /// A normalized column matches `pattern`, where every `*` stands for any run of characters (none included):
    /// ASCII case-insensitively, as `Field` compares (`origin` exactly, byte for byte). Written as a bare value
    /// with a `*` before its end (`actor:*john*`, `resource:secrets/*/db`).
    Pattern { field: Field, pattern: String },
    /// The event time lies in `[start, end)`; an open side is unbounded; both open means "has a time".
    TimeRange {
        start: Option<i64>,
        end: Option<i64>,
    },
    /// A normalized field matches a regular expression (`actor:/^arn:aws:iam::\d+:user\//`): the `regex` crate's
    /// syntax, unanchored, ASCII and Unicode case-insensitive, in time linear in the value (no backtracking).
    Regex { field: Field, pattern: String },
    /// A member of the event's own JSON (`json.eventName:ConsoleLogin`, `json.requestParameters.roleArn:*admin*`):
    /// the value at `path` (member names from the top level, exactly as written) as text, compared as a field is:
    /// equal ASCII case-insensitively, a prefix (`prefix`), a pattern (`pattern`: every `*` is any characters),
    /// or present (`prefix` with an empty `value`).
    Json {
        path: Vec<String>,
        value: String,
        prefix: bool,
        pattern: bool,
    },
    /// The events of one archive: `archive:ORIGIN#SEQ` (or `ORIGIN@SEQ`, as event ids write it); the origin
    /// compares exactly, as `origin:` does.
    Archive { origin: String, sequence: u64 },
    /// The events of these archive rows, read along the index by archive: what an `origin:` or `archive:` term
    /// whose archives hold few of the stored events is resolved to (store/resolve.rs); never written in a query.
    ArchiveRows(Vec<i64>),
    /// The events whose indexed text (docs/search.md section 6.1) holds one of `words`, exact words of the
    /// full-text index, and every event of an archive not in `covered`: what a `json.M:*run*` pattern is first
    /// asked (store/resolve.rs), beside the pattern itself. `complete`: `covered` held every archive with events
    /// when the term was resolved, so the index alone lists the candidates. Never written in a query.
    Words {
        words: Vec<String>,
        covered: Vec<i64>,
        complete: bool,
    },
    /// The auditor's working papers on the event (papers/mod.rs): `tag:NAME` (equal ASCII case-insensitively, a
    /// prefix with `prefix`, a pattern with `pattern`; `tag:*` any tag), `note:WORDS` (the note contains the
    /// value, ASCII case-insensitively; `note:*` any note), `has:note`, `has:tag`, `has:bookmark` (an empty
    /// `value` with `prefix`).
    Papers {
        kind: PaperKind,
        value: String,
        prefix: bool,
        pattern: bool,
    },
    /// The events of a person (`person:anaya`): whose actor the auditor aliased to that person, or whose actor is
    /// that name and aliased to no one (papers/mod.rs, aliases); ASCII case-insensitively.
    Person(String),
    /// The event time is at most this many microseconds before `now` (or later).
    Since(i64),
    /// The event time falls Monday to Friday within `[start, end)` minutes of the day, in the local time of the
    /// fixed UTC offset `offset` (minutes east of UTC): `workhours:09-18+02:00`.
    WorkHours { start: i64, end: i64, offset: i64 },
}

/// Which of the auditor's working papers a [`Query::Papers`] term reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperKind {
    Tag,
    Note,
    Bookmark,
}

impl PaperKind {
    /// The table of the working papers that holds them.
    pub fn table(self) -> &'static str {
        match self {
            PaperKind::Tag => "tags",
            PaperKind::Note => "notes",
            PaperKind::Bookmark => "bookmarks",
        }
    }
}

/// A normalized event field that `field:value` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Time,
    Source,
    Origin,
    Actor,
    Action,
    Resource,
    Outcome,
    Category,
    Ip,
    Agent,
    Env,
    Stage,
    /// Kind of privileged access (`exec`, `secret`, `role`, `login`).
    Privilege,
    /// The status of the event's archive (`verified`, `untrusted`, `failed`); not a column of `events`.
    Status,
}

impl Field {
    /// Every field, in the order the documentation lists them.
    pub const ALL: [Field; 14] = [
        Field::Time,
        Field::Source,
        Field::Origin,
        Field::Actor,
        Field::Action,
        Field::Resource,
        Field::Outcome,
        Field::Category,
        Field::Ip,
        Field::Agent,
        Field::Env,
        Field::Stage,
        Field::Privilege,
        Field::Status,
    ];

    /// The column of table `events` that holds this field (`status` is the column of table `archives`).
    pub fn column(self) -> &'static str {
        match self {
            Field::Time => "ts",
            other => other.name(),
        }
    }

    /// The name used in queries (`actor` in `actor:alice`), lowercase.
    pub fn name(self) -> &'static str {
        match self {
            Field::Time => "time",
            Field::Source => "source",
            Field::Origin => "origin",
            Field::Actor => "actor",
            Field::Action => "action",
            Field::Resource => "resource",
            Field::Outcome => "outcome",
            Field::Category => "category",
            Field::Ip => "ip",
            Field::Agent => "agent",
            Field::Env => "env",
            Field::Stage => "stage",
            Field::Privilege => "privilege",
            Field::Status => "status",
        }
    }

    /// The field a query name denotes, ASCII case-insensitively (`Actor` is [`Field::Actor`]).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL
            .into_iter()
            .find(|field| field.name().eq_ignore_ascii_case(name))
    }
}

/// Why a query could not be read: the 1-based column (in characters) where it went wrong, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

impl QueryError {
    pub(super) fn new(column: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            column,
            message: message.into(),
        }
    }
}
