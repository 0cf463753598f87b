//! The members the OCSF mapping reads, parsed into [`Json`]: names and strings borrowed from the event's bytes
//! unless they have escapes, objects as lists. `serde_json::Value` would allocate a `String` per name and per
//! string and an ordered hash map per object, for the few values the mapping reads once.
//!
//! [`Node`] is what the mapping asks of a parsed value; `Value` has it too, so the tests map each event both ways
//! and compare (ocsf/map.rs).

use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value that borrows from the text it was parsed from. It reads every text exactly as
/// `serde_json::Value` does: the same errors (depth, syntax), a repeated name's last value, numbers as their
/// `Value` text (this build keeps numbers as written: `arbitrary_precision`).
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// The number's text as `serde_json::Number` prints it.
    Number(String),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Members in the order of the text, a repeated name included: [`Node::member`] takes its last value.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// What the OCSF mapping reads from a parsed JSON value whose texts live for `'t`.
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
            Json::Number(n) => Some(Cow::Owned(n.clone())),
            Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Json::Null | Json::Array(_) | Json::Object(_) => None,
        }
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
        crate::sources::text(Some(self)).map(Cow::Owned)
    }
}

impl Json<'_> {
    /// The same value owning all its text.
    fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Number(n) => Json::Number(n),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(items) => Json::Array(items.into_iter().map(Json::into_owned).collect()),
            Json::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|(n, v)| (Cow::Owned(n.into_owned()), v.into_owned()))
                    .collect(),
            ),
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
        d.deserialize_any(Values)
    }
}

struct Values;

impl<'de> Visitor<'de> for Values {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, |n| Json::Number(n.to_string())))
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
        Json::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let Some(Str(first)) = map.next_key::<Str<'de>>()? else {
            return Ok(Json::Object(Vec::new()));
        };
        if first == NUMBER_TOKEN {
            let Str(number) = map.next_value::<Str<'de>>()?;
            let number: serde_json::Number = number.parse().map_err(A::Error::custom)?;
            return Ok(Json::Number(number.to_string()));
        }
        if first == RAW_VALUE_TOKEN {
            let Str(text) = map.next_value::<Str<'de>>()?;
            let value: Json<'_> = serde_json::from_str(&text).map_err(A::Error::custom)?;
            return Ok(value.into_owned());
        }
        let mut members = vec![(first, map.next_value::<Json<'de>>()?)];
        while let Some(Str(name)) = map.next_key::<Str<'de>>()? {
            members.push((name, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Result<Json<'_>, String> {
        serde_json::from_str::<Json<'_>>(text).map_err(|e| e.to_string())
    }

    /// Reads `text` both ways and checks that every pointer in `pointers` finds the same thing.
    fn same_reading(text: &str, pointers: &[&str]) {
        let value = serde_json::from_str::<Value>(text);
        let json = parse(text);
        assert_eq!(value.is_ok(), json.is_ok(), "{text}: {value:?} / {json:?}");
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
                Just("123456789012345678901234567890")
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
}
