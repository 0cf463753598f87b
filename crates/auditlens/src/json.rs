//! An event parsed into [`Json`]: names and strings borrowed from the event's bytes unless they have escapes,
//! objects as lists. `serde_json::Value` would allocate a `String` per name and per string and an ordered hash
//! map per object, for the few values the normalizers and the OCSF mapping read once (6.0 µs against 2.4 µs for
//! a Kubernetes event of the benchmark, docs/benchmarks.md).
//!
//! [`Node`] is what the normalizers (crate::sources) and the OCSF mapping (crate::ocsf::map) ask of a parsed value;
//! `Value` has it too, so the tests read each event both ways and compare.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;

/// A JSON value that borrows from the text it was parsed from. It reads every text exactly as
/// `serde_json::Value` does: the same errors (depth, syntax), a repeated name's last value, numbers as their
/// `Value` text (this build keeps numbers as written: `arbitrary_precision`).
///
/// Three words (24 bytes; `Value` takes 32 and more per value): lists are boxed slices, and long numbers boxed,
/// so that a 16 MiB event of 8.4 million one-digit numbers takes 201 MB once read (tests/it/memory.rs).
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// A number as `Value` holds it (its text is the one `Value` gives), of up to [`SHORT`] bytes: kept in
    /// place, so that a list of millions of numbers costs no allocation per number.
    Short(Short),
    /// A longer number.
    Number(Box<serde_json::Number>),
    String(Cow<'a, str>),
    Array(Box<[Json<'a>]>),
    /// Members in the order of the text, a repeated name included: [`Node::member`] takes its last value.
    Object(Box<[(Cow<'a, str>, Json<'a>)]>),
    /// An object of more than [`WIDE`] members, whose names are looked up in an index (as `Value`'s map would)
    /// rather than one by one: a producer's mapping file may look up thousands of names in it.
    Wide(Box<Wide<'a>>),
}

/// The longest number text a [`Json::Short`] keeps.
pub const SHORT: usize = 15;

/// A number's text of up to [`SHORT`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    len: u8,
    text: [u8; SHORT],
}

impl Short {
    pub fn as_str(&self) -> &str {
        // Only ever a number's text, so ASCII.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// A number as [`Json`] keeps it.
fn number<'a>(n: serde_json::Number) -> Json<'a> {
    let text = n.as_str();
    if text.len() > SHORT {
        return Json::Number(Box::new(n));
    }
    let mut short = Short {
        len: text.len() as u8,
        text: [0; SHORT],
    };
    short.text[..text.len()].copy_from_slice(text.as_bytes());
    Json::Short(short)
}

/// A list of more items or members than this is read into a list of its own rather than the scratch.
const LONG: usize = 4096;

/// Objects of more members than this are [`Json::Wide`].
pub const WIDE: usize = 32;

/// The members of a wide object, in the order of the text, and their positions ordered by name (built at the
/// first lookup: an object nobody looks into costs nothing more).
#[derive(Debug, Clone)]
pub struct Wide<'a> {
    members: Box<[(Cow<'a, str>, Json<'a>)]>,
    by_name: OnceCell<Box<[usize]>>,
}

impl PartialEq for Wide<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.members == other.members
    }
}

impl<'a> Wide<'a> {
    /// The last member named `name`, found by binary search: positions sorted by name, and by position among
    /// equal names (a stable sort).
    fn member(&self, name: &str) -> Option<&Json<'a>> {
        let by_name = self.by_name.get_or_init(|| {
            let mut order: Vec<usize> = (0..self.members.len()).collect();
            order.sort_by(|&a, &b| self.members[a].0.cmp(&self.members[b].0));
            order.into_boxed_slice()
        });
        let end = by_name.partition_point(|&i| self.members[i].0.as_ref() <= name);
        let (found, value) = &self.members[*by_name.get(end.checked_sub(1)?)?];
        (found == name).then_some(value)
    }
}

/// An object's members as [`Json`] keeps them: a list, or a [`Wide`] object past [`WIDE`] members.
fn object<'a>(members: Box<[(Cow<'a, str>, Json<'a>)]>) -> Json<'a> {
    if members.len() > WIDE {
        Json::Wide(Box::new(Wide {
            members,
            by_name: OnceCell::new(),
        }))
    } else {
        Json::Object(members)
    }
}

/// What the normalizers and the OCSF mapping read from a parsed JSON value whose texts live for `'t`. Each method
/// answers what the `serde_json::Value` method of the same purpose answers (this build keeps numbers as written).
pub trait Node<'t>: Sized {
    /// An object's member; the last one when the name is repeated.
    fn member(&self, name: &str) -> Option<&Self>;
    /// An array's elements.
    fn items(&self) -> Option<&[Self]>;
    /// A JSON string's text.
    fn str(&self) -> Option<&str>;
    /// A scalar's text: a string as is, a number or boolean as its JSON text. `None` for `null`, an empty string,
    /// an object or an array (as `sources::text` reads a `Value`).
    fn text(&self) -> Option<Cow<'t, str>>;
    /// A JSON number's text, as written (`Value::Number`'s `as_str`).
    fn number(&self) -> Option<&str>;
    /// A JSON boolean.
    fn boolean(&self) -> Option<bool>;
    /// Whether this is a JSON object.
    fn is_object(&self) -> bool;

    /// A JSON number written as an integer that fits an `i64` (`Value::as_i64`, which parses the text).
    fn i64(&self) -> Option<i64> {
        self.number()?.parse().ok()
    }

    /// The value at a JSON pointer (RFC 6901: `/a/b/0`, `~1` for `/` and `~0` for `~` in a name), as
    /// `Value::pointer` finds it.
    fn pointer(&self, pointer: &str) -> Option<&Self> {
        if pointer.is_empty() {
            return Some(self);
        }
        pointer
            .strip_prefix('/')?
            .split('/')
            .try_fold(self, |target, token| {
                let token: Cow<'_, str> = if token.contains('~') {
                    token.replace("~1", "/").replace("~0", "~").into()
                } else {
                    token.into()
                };
                if let Some(list) = target.items() {
                    // Array indexes: digits, no leading zero (as `Value::pointer` reads them).
                    if token.starts_with('+') || (token != "0" && token.starts_with('0')) {
                        return None;
                    }
                    return token.parse::<usize>().ok().and_then(|i| list.get(i));
                }
                target.member(&token)
            })
    }
}

/// [`Node::text`] of a value that may be missing.
pub fn text<'t, N: Node<'t>>(v: Option<&N>) -> Option<Cow<'t, str>> {
    v.and_then(Node::text)
}

/// [`Node::text`] of the value at a JSON pointer.
pub fn text_at<'t, N: Node<'t>>(v: &N, pointer: &str) -> Option<Cow<'t, str>> {
    text(v.pointer(pointer))
}

/// The string at a JSON pointer; `None` unless it is a JSON string.
pub fn str_at<'t, 'v, N: Node<'t>>(v: &'v N, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Node::str)
}

impl<'t> Node<'t> for Json<'t> {
    fn member(&self, name: &str) -> Option<&Self> {
        match self {
            Json::Object(members) => members
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v),
            Json::Wide(wide) => wide.member(name),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn text(&self) -> Option<Cow<'t, str>> {
        match self {
            Json::String(s) if s.is_empty() => None,
            Json::String(Cow::Borrowed(s)) => Some(Cow::Borrowed(s)),
            Json::String(Cow::Owned(s)) => Some(Cow::Owned(s.clone())),
            Json::Short(n) => Some(Cow::Owned(n.as_str().to_owned())),
            Json::Number(n) => Some(Cow::Owned(n.to_string())),
            Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Json::Null | Json::Array(_) | Json::Object(_) | Json::Wide(_) => None,
        }
    }

    fn number(&self) -> Option<&str> {
        match self {
            Json::Short(n) => Some(n.as_str()),
            Json::Number(n) => Some(n.as_str()),
            _ => None,
        }
    }

    fn boolean(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_object(&self) -> bool {
        matches!(self, Json::Object(_) | Json::Wide(_))
    }
}

impl<'t> Node<'t> for Value {
    fn member(&self, name: &str) -> Option<&Self> {
        self.get(name)
    }

    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }

    fn str(&self) -> Option<&str> {
        self.as_str()
    }

    fn text(&self) -> Option<Cow<'t, str>> {
        match self {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(Cow::Owned(s.clone())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }

    fn number(&self) -> Option<&str> {
        match self {
            Value::Number(n) => Some(n.as_str()),
            _ => None,
        }
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_object(&self) -> bool {
        Value::is_object(self)
    }

    fn i64(&self) -> Option<i64> {
        self.as_i64()
    }
}

impl<'a> Json<'a> {
    /// An object's members in the order of the text, a repeated name included.
    pub fn members(&self) -> Option<&[(Cow<'a, str>, Json<'a>)]> {
        match self {
            Json::Object(members) => Some(members),
            Json::Wide(wide) => Some(&wide.members),
            _ => None,
        }
    }
}

impl Json<'_> {
    fn owned_members(
        members: Box<[(Cow<'_, str>, Json<'_>)]>,
    ) -> Box<[(Cow<'static, str>, Json<'static>)]> {
        members
            .into_iter()
            .map(|(n, v)| (Cow::Owned(n.into_owned()), v.into_owned()))
            .collect()
    }

    /// The same value owning all its text.
    fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Short(n) => Json::Short(n),
            Json::Number(n) => Json::Number(n),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(items) => Json::Array(items.into_iter().map(Json::into_owned).collect()),
            Json::Object(members) => Json::Object(Self::owned_members(members)),
            Json::Wide(wide) => object(Self::owned_members(wide.members)),
        }
    }
}

/// The names serde_json gives the values it passes through a map (`serde_json::Value` reads them the same way):
/// an object whose first name is one of them is read as that value.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// A name or string, borrowed from the text unless it has escapes.
pub struct Str<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Strs;
        impl<'de> Visitor<'de> for Strs {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Strs)
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Room for the members and items of the objects and lists open at once in most events.
        let mut scratch = Scratch {
            members: Vec::with_capacity(32),
            items: Vec::with_capacity(16),
        };
        Values(&mut scratch).deserialize(d)
    }
}

/// The members and items of the objects and lists being read, innermost last: each object or list takes its
/// own from the end once it is read, into a list of exactly its length. No list is grown and copied as it fills
/// (serde_json gives no size hint), and none holds room it does not use: an event of many small objects costs
/// what they hold.
///
/// A list longer than [`LONG`] moves out of the scratch into a list of its own, which grows where it lies (glibc
/// grows a block of 8 MiB or more in place: crate::alloc) and is trimmed to its length at the end: a hostile
/// event of millions of values then costs one copy of them at a time, not a scratch copy and a final one.
struct Scratch<'de> {
    members: Vec<(Cow<'de, str>, Json<'de>)>,
    items: Vec<Json<'de>>,
}

struct Values<'s, 'de>(&'s mut Scratch<'de>);

impl<'de> DeserializeSeed<'de> for Values<'_, 'de> {
    type Value = Json<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Values<'_, 'de> {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let start = self.0.items.len();
        while let Some(item) = seq.next_element_seed(Values(&mut *self.0))? {
            self.0.items.push(item);
            if self.0.items.len() - start == LONG {
                let mut own: Vec<Json<'de>> = self.0.items.drain(start..).collect();
                while let Some(item) = seq.next_element_seed(Values(&mut *self.0))? {
                    own.push(item);
                }
                return Ok(Json::Array(own.into_boxed_slice()));
            }
        }
        Ok(Json::Array(self.0.items.drain(start..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let Some(Str(first)) = map.next_key::<Str<'de>>()? else {
            return Ok(Json::Object(Box::default()));
        };
        if first == NUMBER_TOKEN {
            // Read as `Value` reads it: parsed again, which writes an exponent as `e+5` (the parser's own numbers
            // come here written so already; a member of this name in the event's text may not be).
            let Str(number) = map.next_value::<Str<'de>>()?;
            let number = number
                .parse::<serde_json::Number>()
                .map_err(A::Error::custom)?;
            return Ok(self::number(number));
        }
        if first == RAW_VALUE_TOKEN {
            let Str(text) = map.next_value::<Str<'de>>()?;
            let value: Json<'_> = serde_json::from_str(&text).map_err(A::Error::custom)?;
            return Ok(value.into_owned());
        }
        let start = self.0.members.len();
        let value = map.next_value_seed(Values(&mut *self.0))?;
        self.0.members.push((first, value));
        while let Some(Str(name)) = map.next_key::<Str<'de>>()? {
            let value = map.next_value_seed(Values(&mut *self.0))?;
            self.0.members.push((name, value));
            if self.0.members.len() - start == LONG {
                let mut own: Vec<_> = self.0.members.drain(start..).collect();
                while let Some(Str(name)) = map.next_key::<Str<'de>>()? {
                    let value = map.next_value_seed(Values(&mut *self.0))?;
                    own.push((name, value));
                }
                return Ok(object(own.into_boxed_slice()));
            }
        }
        Ok(object(self.0.members.drain(start..).collect()))
    }
}

/// How `serde_json::from_slice::<Value>(raw)` ends, without building the value: `Ok(true)` for an object,
/// `Ok(false)` for any other value, or the very error it gives. The same parser reads the same bytes through the
/// same decisions (`Value`'s reading of serde_json's number and raw-value names included), and keeps nothing, so
/// the reason an event does not parse costs no memory: `Value` builds every value before the error, 1.8 GB of
/// peak for a 16 MiB event of millions of numbers cut at its end (tests/it/memory.rs).
pub fn value_syntax(raw: &[u8]) -> Result<bool, serde_json::Error> {
    syntax_of(serde_json::Deserializer::from_slice(raw))
}

fn syntax_of<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<bool, serde_json::Error> {
    let object = Syntax.deserialize(&mut de)?;
    de.end()?;
    Ok(object)
}

/// [`value_syntax`]'s reading of one value: whether it is an object.
struct Syntax;

impl<'de> DeserializeSeed<'de> for Syntax {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Syntax {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        Syntax.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element_seed(Syntax)?.is_some() {}
        Ok(false)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        // As `Value`'s visitor: the first name decides (serde_json's number and raw-value names), then every
        // member is read, names as strings.
        let Some(Str(first)) = map.next_key::<Str<'de>>()? else {
            return Ok(true);
        };
        if first == NUMBER_TOKEN {
            map.next_value::<NumberText>()?;
            return Ok(false);
        }
        if first == RAW_VALUE_TOKEN {
            // serde_json's `BoxedFromString`, then the text read as a `Value` from a `&str`.
            let RawText(text) = map.next_value::<RawText>()?;
            return syntax_of(serde_json::Deserializer::from_str(&text)).map_err(A::Error::custom);
        }
        map.next_value_seed(Syntax)?;
        while map.next_key::<Str<'de>>()?.is_some() {
            map.next_value_seed(Syntax)?;
        }
        Ok(true)
    }
}

/// serde_json's `BoxedFromString` (how `Value` reads the value of its raw-value name): a string, with its words
/// for what else it finds.
struct RawText(String);

impl<'de> Deserialize<'de> for RawText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Raw;
        impl Visitor<'_> for Raw {
            type Value = RawText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("raw value")
            }
            fn visit_str<E>(self, s: &str) -> Result<RawText, E> {
                Ok(RawText(s.to_owned()))
            }
        }
        d.deserialize_str(Raw)
    }
}

/// serde_json's `NumberFromString` (how `Value` reads the value of its number name): a string that parses as a
/// number, with its words for what else it finds.
struct NumberText;

impl<'de> Deserialize<'de> for NumberText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Numbers;
        impl Visitor<'_> for Numbers {
            type Value = NumberText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("string containing a number")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<NumberText, E> {
                s.parse::<serde_json::Number>().map_err(E::custom)?;
                Ok(NumberText)
            }
        }
        d.deserialize_str(Numbers)
    }
}

/// Calls `f` with each byte of JSON text `bytes` and whether it belongs to a string (its quotes included; an
/// escaped quote does not end one).
pub fn for_each_byte(bytes: &[u8], f: impl FnMut(u8, bool)) {
    ByteWalk::default().feed(bytes, f);
}

/// [`for_each_byte`] over a text given in pieces: where the previous piece left off (inside a string, after a
/// backslash).
#[derive(Debug, Default, Clone, Copy)]
pub struct ByteWalk {
    in_string: bool,
    escaped: bool,
}

impl ByteWalk {
    /// Calls `f` with each byte of the next piece and whether it belongs to a string.
    pub fn feed(&mut self, bytes: &[u8], mut f: impl FnMut(u8, bool)) {
        let (mut in_string, mut escaped) = (self.in_string, self.escaped);
        for &b in bytes {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                f(b, true);
            } else {
                in_string = b == b'"';
                f(b, in_string);
            }
        }
        (self.in_string, self.escaped) = (in_string, escaped);
    }
}

/// Calls `f` with each byte of JSON text `bytes` outside its strings.
pub fn for_each_byte_outside_strings(bytes: &[u8], mut f: impl FnMut(u8)) {
    for_each_byte(bytes, |b, in_string| {
        if !in_string {
            f(b)
        }
    });
}

/// How many values a JSON text holds at most, counted without reading it: the commas and opening brackets
/// outside strings, plus one. Read into lists or a tree, every value costs tens of bytes whatever its own size (a
/// file of `"a",` four bytes a value took 14 times its size): a file given by someone else is measured first.
pub fn max_values(bytes: &[u8]) -> usize {
    let mut n = 1;
    for_each_byte_outside_strings(bytes, |b| {
        if matches!(b, b',' | b'[' | b'{') {
            n += 1;
        }
    });
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A text walked in two pieces, cut anywhere (inside a string, after a backslash), is walked as a whole.
    #[test]
    fn a_text_walked_in_pieces_is_walked_whole() {
        let text = br#"{"a\"[":["x\\",{"b":"\\\"]}"}],"c":"}"}"#;
        let mut whole = Vec::new();
        for_each_byte(text, |b, s| whole.push((b, s)));
        for cut in 0..=text.len() {
            let mut walk = ByteWalk::default();
            let mut pieces = Vec::new();
            walk.feed(&text[..cut], |b, s| pieces.push((b, s)));
            walk.feed(&text[cut..], |b, s| pieces.push((b, s)));
            assert_eq!(pieces, whole, "cut at {cut}");
        }
    }

    fn parse(text: &str) -> Result<Json<'_>, String> {
        serde_json::from_str::<Json<'_>>(text).map_err(|e| e.to_string())
    }

    /// Reads `text` both ways and checks that every pointer in `pointers` finds the same thing.
    fn same_reading(text: &str, pointers: &[&str]) {
        let value = serde_json::from_str::<Value>(text);
        let json = parse(text);
        assert_eq!(value.is_ok(), json.is_ok(), "{text}: {value:?} / {json:?}");
        same_syntax(text.as_bytes());
        let (Ok(value), Ok(json)) = (value, json) else {
            return;
        };
        for p in pointers {
            // `Value`'s own pointer, not [`Node::pointer`].
            let found = value.pointer(p);
            assert_eq!(
                found.and_then(Node::text),
                text_at(&json, p),
                "{text} at {p}"
            );
            assert_eq!(
                found.and_then(Value::as_str),
                str_at(&json, p),
                "{text} at {p}"
            );
            assert_eq!(
                value.pointer(p).map(|v| v.as_array().map(Vec::len)),
                json.pointer(p).map(|v| v.items().map(<[Json<'_>]>::len)),
                "{text} at {p}"
            );
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed_from_the_text() {
        let text = r#"{"user":{"username":"alice","note":"caf\u00e9"}}"#;
        let json = parse(text).unwrap();
        let Some(Json::String(name)) = json.pointer("/user/username") else {
            panic!("{json:?}");
        };
        assert!(matches!(name, Cow::Borrowed("alice")));
        assert_eq!(str_at(&json, "/user/note"), Some("café"));
    }

    #[test]
    fn reads_each_text_as_serde_json_value_does() {
        let pointers = [
            "", "/a", "/a/b", "/a/0", "/a/1", "/a/01", "/a/+1", "/n", "/x~1y", "/x~0y", "/e",
        ];
        for text in [
            r#"{"a":{"b":"one","b":"two"}}"#,
            r#"{"a":["x",{"b":1}],"n":-0.0e-7,"x/y":true,"x~y":false,"e":""}"#,
            r#"{"n":123456789012345678901234567890,"a":1E400}"#,
            r#"{"n":1.50,"a":null}"#,
            r#"{"$serde_json::private::Number":"12"}"#,
            r#"{"a":{"$serde_json::private::Number":"x"}}"#,
            r#"{"a":{"$serde_json::private::RawValue":"{\"b\":7}"}}"#,
            r#"{"a":{"$serde_json::private::RawValue":"{"}}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":[1,2,]}"#,
            r#"{"a":{"b":1} "#,
            r#"[]"#,
            r#""a""#,
        ] {
            same_reading(text, &pointers);
        }
    }

    #[test]
    fn nesting_fails_where_value_fails() {
        for depth in [120, 126, 127, 128, 129, 130, 10_000] {
            let text = format!(r#"{}"x"{}"#, r#"{"a":"#.repeat(depth), "}".repeat(depth));
            same_reading(&text, &["/a/a"]);
            let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            same_reading(&text, &["/0/0"]);
        }
    }

    #[test]
    fn a_value_is_three_words() {
        assert_eq!(std::mem::size_of::<Json<'_>>(), 24);
    }

    #[test]
    fn long_lists_and_objects_read_as_a_value_reads_them() {
        for n in [LONG - 1, LONG, LONG + 1, 3 * LONG + 7] {
            let items: Vec<String> = (0..n)
                .map(|i| match i % 4 {
                    0 => i.to_string(),
                    1 => format!("\"s{i}\""),
                    2 => format!("[{i},{{\"k\":{i}}}]"),
                    _ => "-1.5e-7".to_owned(),
                })
                .collect();
            // Names repeat: the last value of each wins.
            let members: Vec<String> = (0..n)
                .map(|i| format!("\"m{}\":{i}", i % (n / 2)))
                .collect();
            let text = format!(
                r#"{{"list":[{}],"object":{{{}}},"after":[1,2]}}"#,
                items.join(","),
                members.join(",")
            );
            let last = n - 1;
            let pointers = [
                "/list/0".to_owned(),
                "/list/1".to_owned(),
                format!("/list/{}/1/k", n / 4 * 4 + 2 - 4),
                format!("/list/{last}"),
                format!("/list/{n}"),
                "/object/m0".to_owned(),
                format!("/object/m{}", n / 2 - 1),
                format!("/object/m{}", n / 2),
                "/after/1".to_owned(),
            ];
            same_reading(
                &text,
                &pointers.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            let json = parse(&text).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                json.pointer("/list").and_then(Node::items).map(<[_]>::len),
                Some(n)
            );
            assert_eq!(
                json.pointer("/object")
                    .and_then(Json::members)
                    .map(<[_]>::len),
                Some(n)
            );
            for i in 0..n {
                let p = format!("/list/{i}");
                assert_eq!(
                    text_at(&json, &p),
                    value.pointer(&p).and_then(Node::text),
                    "{p}"
                );
            }
        }
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let name = prop_oneof![
            Just("a".to_owned()),
            Just("b".to_owned()),
            Just("x/y".to_owned()),
            Just("é\"\\\n".to_owned()),
            Just(String::new()),
            "[a-c]{0,2}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![
                Just("1.50"),
                Just("-0"),
                Just("1e5"),
                Just("123456789012345678901234567890"),
                // The longest kept in place, and one byte longer.
                Just("-12345678901234"),
                Just("-123456789012345"),
                Just("-1234567890123456789012"),
                Just("1.2345678901234567e-300")
            ]
            .prop_map(|n| Value::Number(n.parse().expect("a number"))),
            ".{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((name.clone(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Objects past [`WIDE`] members, with repeated names: every name is found as `Value` finds it.
        #[test]
        fn wide_objects_find_each_name_as_a_value_does(
            members in prop::collection::vec(("[a-e]{0,2}", any::<u8>()), 0..120),
        ) {
            let text = format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(n, v)| format!("{}:{v}", Value::String(n.clone())))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let json = parse(&text).unwrap();
            prop_assert_eq!(matches!(json, Json::Wide(_)), members.len() > WIDE);
            let value: Value = serde_json::from_str(&text).unwrap();
            for name in ["", "a", "b", "aa", "ab", "e", "ee", "f", "zz", "a\u{0}"] {
                prop_assert_eq!(
                    json.member(name).and_then(Node::text),
                    value.get(name).and_then(Node::text),
                    "{}", name
                );
            }
        }
    }

    /// [`value_syntax`] ends as reading `raw` into a `Value` ends: the same error, word for word, or whether it
    /// read an object.
    fn same_syntax(raw: &[u8]) {
        let value = serde_json::from_slice::<Value>(raw)
            .map(|v| v.is_object())
            .map_err(|e| e.to_string());
        let syntax = value_syntax(raw).map_err(|e| e.to_string());
        assert_eq!(syntax, value, "{}", String::from_utf8_lossy(raw));
    }

    #[test]
    fn syntax_ends_as_a_value_reading_ends() {
        for raw in [
            &b""[..],
            b" ",
            b"{\"a\":1} x",
            b"{\"a\":\"\xff\"}",
            b"\xff",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":\"\\ud800\\u0041\"}",
            b"{\"a\":\"\\udc00\"}",
            b"{\"a\"1}",
            b"{\"a\":01}",
            b"{\"a\":1.}",
            b"{\"a\":-}",
            b"{\"a\":1e}",
            b"{\"a\":1,}",
            b"[1,]",
            b"[1 2]",
            b"{1:2}",
            b"{\"a\":nul}",
            b"{\"a\":\"\t\"}",
            b"{\"a\":\"\\x\"}",
            br#"{"$serde_json::private::Number":12}"#,
            br#"{"$serde_json::private::Number":"1x"}"#,
            br#"{"$serde_json::private::Number":"1E5","b":2}"#,
            br#"{"$serde_json::private::RawValue":7}"#,
            br#"{"$serde_json::private::RawValue":"{\"a\":"}"#,
            br#"{"$serde_json::private::RawValue":"[1] [2]"}"#,
            br#"{"$serde_json::private::RawValue":"{\"a\":[1,{}]}"}"#,
            br#"{"a":{"$serde_json::private::RawValue":"\"\\ud800\""}}"#,
            br#"{"a":1,"$serde_json::private::Number":"x"}"#,
        ] {
            same_syntax(raw);
        }
        for depth in [127, 128, 129] {
            same_syntax(format!("{}1{}", "[".repeat(depth), "]".repeat(depth)).as_bytes());
            same_syntax(format!("{}1{}", "[".repeat(depth), "]".repeat(depth - 1)).as_bytes());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Any value with one byte taken out, put in or changed, or cut short: the same end both ways.
        #[test]
        fn any_broken_value_ends_both_ways_alike(
            v in any_json(),
            at in any::<prop::sample::Index>(),
            edit in 0..4u8,
            byte in prop::sample::select(b"{}[],:\"\\ 0-.eEtfnu\xff".to_vec()),
        ) {
            let mut raw = serde_json::to_vec(&v).unwrap();
            let i = at.index(raw.len() + 1);
            match edit {
                0 if i < raw.len() => { raw.remove(i); }
                1 => raw.insert(i, byte),
                2 if i < raw.len() => raw[i] = byte,
                _ => raw.truncate(i),
            }
            same_syntax(&raw);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn any_value_reads_the_same_both_ways(v in any_json(), pretty in any::<bool>(), dup in any::<bool>()) {
            let mut text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
            // A repeated name: the last value wins in both readings.
            if dup && text.starts_with('{') && text.len() > 2 {
                text = format!(r#"{{"a":"first",{}"#, &text[1..]);
            }
            let pointers = ["", "/a", "/b", "/a/a", "/a/b", "/a/0", "/b/1", "/x~1y", "/", "/a/", "/0", "/a/0/b"];
            same_reading(&text, &pointers);
        }
    }

    #[test]
    fn max_values_counts_the_values_outside_strings() {
        assert_eq!(max_values(b"1"), 1);
        assert_eq!(max_values(br#"[1,2,3]"#), 4);
        assert_eq!(max_values(br#"{"a":[1,{"b":"x,y[{"}],"c":"\\\",["}"#), 6);
        let many = format!("[{}0]", "0,".repeat(1000));
        assert!(max_values(many.as_bytes()) >= 1001);
        // Never fewer than the values serde_json reads.
        for text in [
            r#"[[],[[]],{},{"a":{}}]"#,
            r#"{"k":["v","w"],"n":null}"#,
            "[\"\\\"\",1]",
        ] {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            fn count(v: &serde_json::Value) -> usize {
                1 + match v {
                    serde_json::Value::Array(a) => a.iter().map(count).sum(),
                    serde_json::Value::Object(o) => o.values().map(count).sum(),
                    _ => 0,
                }
            }
            assert!(max_values(text.as_bytes()) >= count(&v), "{text}");
        }
    }
}
