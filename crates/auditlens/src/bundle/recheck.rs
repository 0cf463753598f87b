//! The verifier's check of the reports (docs/evidence-bundle.md section 7): `report.json` and `report.html` must be
//! byte for byte what [`super::report::ReportBuilder`] and [`super::html::render`] make of the bundle's own
//! events, selection and signed metadata. When they are not, [`Difference`] names the first place they part: the
//! JSON path of the figure (`events[3].actor`), or the line of the page with its section and row, and the
//! expected and found values.

use std::io::{self, BufRead, Read, Write};

use serde_json::Value;

/// Where a report differs from the one derived from the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs, for a person: the JSON path, or the page's line, section and row.
    pub what: String,
    pub expected: String,
    pub found: String,
}

/// Longest value shown for expected and found.
const SHOWN: usize = 240;

/// Compares `report.json`'s bytes with the derived document's bytes. `None` when they are equal.
pub fn json_difference(expected: &[u8], found: &[u8]) -> Option<Difference> {
    if expected == found {
        return None;
    }
    // The bundle's file is read as a tree only when it is about the derived one's size: a `Value` takes tens of
    // bytes per element, and a small bundle's 64 MiB of `[0,0,...]` took 3.5 GB to read so. Any longer, only its
    // bytes are compared.
    if found.len() > 2 * expected.len() + (64 << 10) {
        let at = first_difference(expected, found);
        return Some(Difference {
            what: format!(
                "it holds {} bytes, the derived report {} (first difference at byte {at})",
                found.len(),
                expected.len()
            ),
            expected: window(expected, at),
            found: window(found, at),
        });
    }
    let want: Value = match serde_json::from_slice(expected) {
        Ok(v) => v,
        Err(e) => {
            return Some(Difference {
                what: format!("the derived report does not parse ({e})"),
                expected: String::new(),
                found: String::new(),
            });
        }
    };
    let got: Value = match serde_json::from_slice(found) {
        Ok(v) => v,
        Err(e) => {
            return Some(Difference {
                what: format!("it is not JSON ({e})"),
                expected: "a JSON document".into(),
                found: shown(&String::from_utf8_lossy(found)),
            });
        }
    };
    let mut path = String::new();
    if let Some(d) = value_difference(&want, &got, &mut path) {
        return Some(d);
    }
    let at = first_difference(expected, found);
    Some(Difference {
        what: format!(
            "it holds the derived figures but is not byte for byte their rendering (first difference at byte {at})"
        ),
        expected: window(expected, at),
        found: window(found, at),
    })
}

fn value_difference(want: &Value, got: &Value, path: &mut String) -> Option<Difference> {
    let at = |path: &str| {
        if path.is_empty() {
            "the document".to_string()
        } else {
            path.to_string()
        }
    };
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let d = match g.get(k) {
                    None => Some(Difference {
                        what: at(path),
                        expected: shown(&wv.to_string()),
                        found: "(missing)".into(),
                    }),
                    Some(gv) => value_difference(wv, gv, path),
                };
                if d.is_some() {
                    return d;
                }
                path.truncate(len);
            }
            g.iter()
                .find(|(k, _)| !w.contains_key(*k))
                .map(|(k, gv)| Difference {
                    what: format!("{} (a member the report does not have)", {
                        let mut p = path.clone();
                        if !p.is_empty() {
                            p.push('.');
                        }
                        p.push_str(k);
                        p
                    }),
                    expected: "(absent)".into(),
                    found: shown(&gv.to_string()),
                })
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return Some(Difference {
                    what: format!("{}: the number of elements", at(path)),
                    expected: w.len().to_string(),
                    found: g.len().to_string(),
                });
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if let Some(d) = value_difference(wv, gv, path) {
                    return Some(d);
                }
                path.truncate(len);
            }
            None
        }
        _ if want == got => None,
        _ => Some(Difference {
            what: at(path),
            expected: shown(&want.to_string()),
            found: shown(&got.to_string()),
        }),
    }
}

/// A writer that compares what is written to it, line by line, with `found` (the bundle's `report.html`), and
/// stops (with an error) at the first line that differs. [`HtmlCompare::finish`] then says whether the page
/// matched to its end.
pub struct HtmlCompare<R: BufRead> {
    found: R,
    pending: Vec<u8>,
    line: u64,
    section: String,
    difference: Option<Difference>,
}

impl<R: BufRead> HtmlCompare<R> {
    pub fn new(found: R) -> Self {
        HtmlCompare {
            found,
            pending: Vec::new(),
            line: 0,
            section: "the page header".into(),
            difference: None,
        }
    }

    /// The difference found, if any, after the whole derived page was written (or the writing stopped).
    pub fn finish(mut self) -> io::Result<Option<Difference>> {
        if self.difference.is_none() && !self.pending.is_empty() {
            let last = std::mem::take(&mut self.pending);
            self.compare_line(&last)?;
        }
        if self.difference.is_some() {
            return Ok(self.difference);
        }
        let mut rest = Vec::new();
        (&mut self.found)
            .take(SHOWN as u64)
            .read_to_end(&mut rest)?;
        if !rest.is_empty() {
            return Ok(Some(Difference {
                what: format!(
                    "line {}: the bundle's page goes on after the end of the page derived from the bundle",
                    self.line + 1
                ),
                expected: "(the end of the page)".into(),
                found: shown(&String::from_utf8_lossy(&rest)),
            }));
        }
        Ok(None)
    }

    fn compare_line(&mut self, want: &[u8]) -> io::Result<bool> {
        self.line += 1;
        if let Some(heading) = heading(want) {
            self.section = heading;
        }
        let mut got = Vec::with_capacity(want.len().min(1 << 16));
        (&mut self.found)
            .take(want.len() as u64 + 1)
            .read_until(b'\n', &mut got)?;
        if got == want {
            return Ok(true);
        }
        let at = first_difference(want, &got);
        let row = row_of(want)
            .map(|r| format!(", {r}"))
            .or_else(|| row_of(&got).map(|r| format!(", where the bundle's page has {r}")))
            .unwrap_or_default();
        self.difference = Some(Difference {
            what: format!("line {}, in {}{row}", self.line, self.section),
            expected: window(want, at),
            found: if got.is_empty() {
                "(the end of the page)".into()
            } else {
                window(&got, at)
            },
        });
        Ok(false)
    }
}

impl<R: BufRead> Write for HtmlCompare<R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.difference.is_some() {
            return Err(io::Error::other("report.html differs"));
        }
        let mut from = self.pending.len();
        self.pending.extend_from_slice(buf);
        while let Some(off) = self.pending[from..].iter().position(|b| *b == b'\n') {
            let rest = self.pending.split_off(from + off + 1);
            let line = std::mem::replace(&mut self.pending, rest);
            if !self.compare_line(&line)? {
                return Err(io::Error::other("report.html differs"));
            }
            from = 0;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The text of an `<h2>` heading the line holds.
fn heading(line: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(line).ok()?;
    let start = text.find("<h2>")? + 4;
    let end = start + text[start..].find("</h2>")?;
    Some(format!("section \"{}\"", &text[start..end]))
}

/// Which row, event or archive of the page a line is, by the fixed markup the renderer writes.
fn row_of(line: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(line).ok()?;
    let number_after = |prefix: &str| -> Option<String> {
        let start = text.find(prefix)? + prefix.len();
        let digits: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        (!digits.is_empty()).then_some(digits)
    };
    if text.starts_with("<tr><td class=\"n\"><a href=\"#event-") {
        return number_after("#event-").map(|p| format!("row {p} (event {p})"));
    }
    if text.starts_with("<article class=\"event\" id=\"event-") {
        return number_after("id=\"event-").map(|p| format!("event {p}"));
    }
    if text.starts_with("<div class=\"archive\"><h3>Archive ") {
        return number_after("<h3>Archive ").map(|k| format!("archive {k}"));
    }
    None
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// Up to [`SHOWN`] bytes of `bytes` around offset `at`, as text, with `…` where it was cut.
fn window(bytes: &[u8], at: usize) -> String {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut start = at.saturating_sub(SHOWN / 3).min(bytes.len());
    while start > 0 && start < bytes.len() && (bytes[start] & 0xC0) == 0x80 {
        start -= 1;
    }
    let mut end = (start + SHOWN).min(bytes.len());
    while end < bytes.len() && (bytes[end] & 0xC0) == 0x80 {
        end += 1;
    }
    format!(
        "{}{}{}",
        if start > 0 { "…" } else { "" },
        String::from_utf8_lossy(&bytes[start..end]),
        if end < bytes.len() { "…" } else { "" }
    )
}

fn shown(text: &str) -> String {
    window(text.as_bytes(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_differences_name_the_path() {
        let want = br#"{"a":{"b":[1,{"c":"x"}]},"d":1}"#;
        let d = json_difference(want, br#"{"a":{"b":[1,{"c":"y"}]},"d":1}"#).unwrap();
        assert_eq!(
            (d.what.as_str(), d.expected.as_str(), d.found.as_str()),
            ("a.b[1].c", "\"x\"", "\"y\"")
        );
        let d = json_difference(want, br#"{"a":{"b":[1]},"d":1}"#).unwrap();
        assert_eq!(d.what, "a.b: the number of elements");
        let d = json_difference(want, br#"{"a":{"b":[1,{"c":"x"}]}}"#).unwrap();
        assert_eq!((d.what.as_str(), d.found.as_str()), ("d", "(missing)"));
        let d = json_difference(want, br#"{"a":{"b":[1,{"c":"x"}]},"d":1,"e":2}"#).unwrap();
        assert!(d.what.starts_with("e "), "{}", d.what);
        // A file far longer than the derived one is compared byte by byte, never read as a tree.
        let mut long = br#"{"a":{"b":[1,{"c":"x"}]},"d":[0"#.to_vec();
        long.extend(b",0".repeat(100_000));
        long.extend(b"]}");
        let d = json_difference(want, &long).unwrap();
        assert!(
            d.what
                .starts_with(&format!("it holds {} bytes", long.len())),
            "{}",
            d.what
        );
        assert!(d.what.contains("first difference at byte 29"), "{}", d.what);
        let d = json_difference(want, br#"{"d":1,"a":{"b":[1,{"c":"x"}]}}"#).unwrap();
        assert!(d.what.contains("byte for byte"), "{}", d.what);
        assert!(
            json_difference(want, b"{")
                .unwrap()
                .what
                .contains("not JSON")
        );
        assert_eq!(json_difference(want, want), None);
    }

    fn compare(want: &str, found: &str) -> Option<Difference> {
        let mut c = HtmlCompare::new(found.as_bytes());
        let _ = c.write_all(want.as_bytes());
        c.finish().unwrap()
    }

    #[test]
    fn html_differences_name_the_line_section_and_row() {
        let page = "<h1>x</h1>\n<h2>2. Events at a glance</h2>\n\
                    <tr><td class=\"n\"><a href=\"#event-1\">1</a></td><td>alice</td></tr>\n\
                    <tr><td class=\"n\"><a href=\"#event-2\">2</a></td><td>bob</td></tr>\n</table>\n";
        assert_eq!(compare(page, page), None);
        let d = compare(page, &page.replace(">bob<", ">eve<")).unwrap();
        assert_eq!(
            d.what,
            "line 4, in section \"2. Events at a glance\", row 2 (event 2)"
        );
        assert!(d.expected.contains("bob") && d.found.contains("eve"));
        let d = compare(page, &format!("{page}<p>more</p>\n")).unwrap();
        assert!(d.what.contains("after the end"), "{}", d.what);
        let d = compare(page, &page[..page.len() - 9]).unwrap();
        assert_eq!(d.found, "(the end of the page)");
        let d = compare("a\nb\n", "a\nb\u{e9}\n").unwrap();
        assert_eq!((d.expected.as_str(), d.found.as_str()), ("b", "b\u{e9}"));
    }
}
