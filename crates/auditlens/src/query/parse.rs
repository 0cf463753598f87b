//! The parser: builds a [`Query`](super::Query) tree from the lexer's tokens, with the precedence
//! NOT > AND > OR and a limit on nesting.

use super::lex::{Op, Token, TokenKind};
use super::{MAX_DEPTH, Query, QueryError};

pub(super) struct Parser {
    pub(super) tokens: std::iter::Peekable<std::vec::IntoIter<Token>>,
}

impl Parser {
    /// Checks that the token after operator `op` (at `column`) can start an operand.
    fn expect_operand(&mut self, op: Op, column: usize) -> Result<(), QueryError> {
        let spelling = op.spelling();
        match self.tokens.peek() {
            None
            | Some(Token {
                kind: TokenKind::Close,
                ..
            }) => {
                let message = match op {
                    Op::Not | Op::Minus => format!("`{spelling}` needs a term after it"),
                    Op::And | Op::Or => format!("`{spelling}` needs a term on its right"),
                };
                Err(QueryError::new(column, message))
            }
            Some(Token {
                kind: TokenKind::Op(next @ (Op::And | Op::Or)),
                column: next_column,
            }) => Err(QueryError::new(
                *next_column,
                format!(
                    "`{}` directly after `{spelling}`: remove one of them",
                    next.spelling()
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    pub(super) fn parse_or(&mut self, depth: usize) -> Result<Query, QueryError> {
        let mut items = vec![self.parse_and(depth)?];
        while let Some(Token {
            kind: TokenKind::Op(Op::Or),
            column,
        }) = self.tokens.peek()
        {
            let column = *column;
            self.tokens.next();
            self.expect_operand(Op::Or, column)?;
            items.push(self.parse_and(depth)?);
        }
        Ok(combine(items, false))
    }

    fn parse_and(&mut self, depth: usize) -> Result<Query, QueryError> {
        let mut items = vec![self.parse_unary(depth)?];
        loop {
            match self.tokens.peek() {
                Some(Token {
                    kind: TokenKind::Op(Op::And),
                    column,
                }) => {
                    let column = *column;
                    self.tokens.next();
                    self.expect_operand(Op::And, column)?;
                    items.push(self.parse_unary(depth)?);
                }
                Some(Token {
                    kind: TokenKind::Op(Op::Not | Op::Minus) | TokenKind::Open | TokenKind::Term(_),
                    ..
                }) => items.push(self.parse_unary(depth)?),
                _ => break,
            }
        }
        Ok(combine(items, true))
    }

    fn parse_unary(&mut self, depth: usize) -> Result<Query, QueryError> {
        let Some(token) = self.tokens.next() else {
            return Err(QueryError::new(1, "expected a term"));
        };
        let column = token.column;
        match token.kind {
            TokenKind::Term(query) => Ok(query),
            TokenKind::Op(op @ (Op::Not | Op::Minus)) => {
                check_depth(depth, column)?;
                self.expect_operand(op, column)?;
                let inner = self.parse_unary(depth + 1)?;
                Ok(Query::Not(Box::new(inner)))
            }
            TokenKind::Op(op) => Err(QueryError::new(
                column,
                format!("`{}` needs a term on its left", op.spelling()),
            )),
            TokenKind::Close => Err(QueryError::new(column, "this `)` has no matching `(`")),
            TokenKind::Open => {
                check_depth(depth, column)?;
                match self.tokens.peek() {
                    None => {
                        return Err(QueryError::new(column, "this `(` is never closed"));
                    }
                    Some(Token {
                        kind: TokenKind::Close,
                        ..
                    }) => return Err(QueryError::new(column, "empty parentheses")),
                    Some(_) => {}
                }
                let inner = self.parse_or(depth + 1)?;
                match self.tokens.next() {
                    Some(Token {
                        kind: TokenKind::Close,
                        ..
                    }) => Ok(inner),
                    _ => Err(QueryError::new(column, "this `(` is never closed")),
                }
            }
        }
    }
}

fn check_depth(depth: usize, column: usize) -> Result<(), QueryError> {
    if depth >= MAX_DEPTH {
        return Err(QueryError::new(
            column,
            format!("the query nests deeper than {MAX_DEPTH} levels of parentheses and NOT"),
        ));
    }
    Ok(())
}

/// Joins parsed operands into one AND (`and`) or OR node, flattening nested nodes of the same kind.
fn combine(items: Vec<Query>, and: bool) -> Query {
    if items.len() == 1 {
        return items.into_iter().next().unwrap_or(Query::All);
    }
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Query::And(inner) if and => flat.extend(inner),
            Query::Or(inner) if !and => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if and {
        Query::And(flat)
    } else {
        Query::Or(flat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::test_support::*;
    use crate::query::{Field, compile, parse};

    #[test]
    fn empty_and_blank_queries_match_everything() {
        assert_eq!(ok(""), Query::All);
        assert_eq!(ok(" \t\n\u{3000}"), Query::All);
        assert_eq!(compile(&Query::All, 0).sql, "1");
        assert!(compile(&Query::All, 0).params.is_empty());
    }

    #[test]
    fn adjacent_terms_are_anded_and_or_binds_loosest() {
        assert_eq!(
            ok("a b c"),
            Query::And(vec![text("a"), text("b"), text("c")])
        );
        assert_eq!(ok("a AND b"), ok("a b"));
        assert_eq!(
            ok("a b OR c"),
            Query::Or(vec![Query::And(vec![text("a"), text("b")]), text("c")])
        );
        assert_eq!(
            ok("a OR b c"),
            Query::Or(vec![text("a"), Query::And(vec![text("b"), text("c")])])
        );
        assert_eq!(
            ok("a OR b OR c"),
            Query::Or(vec![text("a"), text("b"), text("c")])
        );
    }

    #[test]
    fn not_binds_tighter_than_and() {
        assert_eq!(ok("NOT a b"), Query::And(vec![not(text("a")), text("b")]));
        assert_eq!(ok("-a b"), ok("NOT a b"));
        assert_eq!(
            ok("a OR NOT b c"),
            Query::Or(vec![text("a"), Query::And(vec![not(text("b")), text("c")])])
        );
        assert_eq!(ok("a -b"), Query::And(vec![text("a"), not(text("b"))]));
        assert_eq!(ok("-actor:bob"), not(field(Field::Actor, "bob", false)));
        assert_eq!(ok("-\"x y\""), not(phrase("x y")));
        assert_eq!(ok("-(a OR b)"), not(Query::Or(vec![text("a"), text("b")])));
    }

    #[test]
    fn double_negation_is_allowed() {
        assert_eq!(ok("NOT NOT a"), not(not(text("a"))));
        assert_eq!(ok("--a"), not(not(text("a"))));
        assert_eq!(ok("-NOT a"), not(not(text("a"))));
    }

    #[test]
    fn parentheses_group_and_same_kind_nodes_flatten() {
        assert_eq!(
            ok("a (b c)"),
            Query::And(vec![text("a"), text("b"), text("c")])
        );
        assert_eq!(
            ok("(a OR b) c"),
            Query::And(vec![Query::Or(vec![text("a"), text("b")]), text("c")])
        );
        assert_eq!(ok("((a))"), text("a"));
        assert_eq!(
            ok("a OR (b OR c)"),
            Query::Or(vec![text("a"), text("b"), text("c")])
        );
        assert_eq!(ok("NOT(a)b"), Query::And(vec![not(text("a")), text("b")]));
    }

    /// (query, column, a piece of the message)
    const ERRORS: &[(&str, usize, &str)] = &[
        ("actor:\"bob", 7, "unterminated quote"),
        ("\"abc", 1, "unterminated quote"),
        ("a \"b c", 3, "unterminated quote"),
        ("\"a\\\"", 1, "unterminated quote"),
        ("ab\"c\"", 3, "a quote cannot start inside a word"),
        ("\"a\"b", 4, "expected a space"),
        ("actor:\"x\"y", 10, "expected a space"),
        ("\"a\"**", 5, "expected a space"),
        ("a - b", 3, "`-` must be directly followed"),
        ("-", 1, "`-` must be directly followed"),
        ("a -", 3, "`-` must be directly followed"),
        ("(-)", 2, "`-` must be directly followed"),
        ("OR a", 1, "`OR` needs a term on its left"),
        ("AND a", 1, "`AND` needs a term on its left"),
        ("(AND a)", 2, "`AND` needs a term on its left"),
        ("a (OR b)", 4, "`OR` needs a term on its left"),
        ("a OR", 3, "`OR` needs a term on its right"),
        ("a AND", 3, "`AND` needs a term on its right"),
        ("(a OR) b", 4, "`OR` needs a term on its right"),
        ("(a AND ) b", 4, "`AND` needs a term on its right"),
        ("NOT", 1, "`NOT` needs a term after it"),
        ("a NOT", 3, "`NOT` needs a term after it"),
        ("-(NOT)", 3, "`NOT` needs a term after it"),
        ("a OR OR b", 6, "`OR` directly after `OR`"),
        ("a AND OR b", 7, "`OR` directly after `AND`"),
        ("a OR AND b", 6, "`AND` directly after `OR`"),
        ("a AND AND b", 7, "`AND` directly after `AND`"),
        ("NOT OR a", 5, "`OR` directly after `NOT`"),
        ("-OR a", 2, "`OR` directly after `-`"),
        ("a and or b", 7, "`OR` directly after `AND`"),
        ("(a OR b", 1, "this `(` is never closed"),
        ("((a)", 1, "this `(` is never closed"),
        ("(", 1, "this `(` is never closed"),
        ("a (b (c)", 3, "this `(` is never closed"),
        ("a)", 2, "this `)` has no matching `(`"),
        ("(a))", 4, "this `)` has no matching `(`"),
        (")", 1, "this `)` has no matching `(`"),
        ("()", 1, "empty parentheses"),
        ("a ( )", 3, "empty parentheses"),
        ("foo:bar", 1, "unknown field `foo`"),
        ("a https://x", 3, "unknown field `https`"),
        ("10:30", 1, "unknown field `10`"),
        (":x", 1, "a field name must come before `:`"),
        ("actor:", 7, "`actor:` needs a value"),
        ("actor: bob", 7, "`actor:` needs a value"),
        ("actor:\"\"", 7, "`actor:` needs a value"),
        ("x Actor:", 9, "`actor:` needs a value"),
        ("after:", 7, "`after:` needs a value"),
        ("time:", 6, "`time:` needs a value"),
        ("after:2024-13-01", 7, "the month must be 01-12"),
        ("before:2024-02-30", 8, "day 30 does not exist in 2024-02"),
        ("after:2023-02-29", 7, "day 29 does not exist in 2023-02"),
        ("after:2024-01-01T24:00:00Z", 7, "the hour must be 00-23"),
        ("after:2024-01-01T10:60:00Z", 7, "the minute must be 00-59"),
        ("after:2024-01-01T10:00:60Z", 7, "the second must be 00-59"),
        ("after:yesterday", 7, "expected 4 digits for the year"),
        ("after:24-01-01", 7, "expected 4 digits for the year"),
        ("after:2024-1-01", 7, "expected 2 digits for the month"),
        ("after:2024-01-01T10:00", 7, "incomplete date or time"),
        ("after:2024-01", 7, "incomplete date or time"),
        (
            "after:2024-01-01T10:00:00.Z",
            7,
            "expected digits after the `.`",
        ),
        (
            "after:2024-01-01T10:00:00+01",
            7,
            "the offset must be written ±hh:mm",
        ),
        (
            "after:2024-01-01T10:00:00+24:00",
            7,
            "the offset must be -23:59 to +23:59",
        ),
        ("after:2024-01-01Z", 7, "an offset needs a full time"),
        ("after:2024-01-01T10:00:00Zx", 7, "unexpected `x`"),
        (
            "after:\"2024-01-01 10:00:00+1\"",
            7,
            "cannot read `2024-01-01 10:00:00+1`",
        ),
        (
            "time:2024-05",
            6,
            "for the whole period write time:2024-05*",
        ),
        (
            "time:2024-05-01T10",
            6,
            "for the whole period write time:2024-05-01T10*",
        ),
        ("time:2024-05-01T10:00:00Z*", 6, "takes no offset"),
        (
            "time:2024-05-01T10:00:00.1234567*",
            6,
            "at most 6 fraction digits",
        ),
        ("after:2024-01-01*", 17, "`after:` takes no `*`"),
        ("before:\"2024-01-01\"*", 20, "`before:` takes no `*`"),
        ("since:1h*", 9, "`since:` takes no `*`"),
        ("after:*", 7, "`after:` takes no `*`"),
        ("since:15", 7, "the unit is missing"),
        ("since:1M", 7, "units are lowercase"),
        ("since:1h30m", 7, "`h30m` is not a unit"),
        ("since:h", 7, "it must start with a number"),
        ("since:99999999999999999w", 7, "the duration is too large"),
        (
            "since:99999999999999999999999s",
            7,
            "the duration is too large",
        ),
        ("\"\"", 1, "has nothing to search for"),
        ("*", 1, "a lone `*`"),
        ("-*", 2, "a lone `*`"),
        ("é\"x", 2, "a quote cannot start inside a word"),
        ("日本 \"x", 4, "unterminated quote"),
    ];

    #[test]
    fn every_error_names_its_column() {
        for (input, column, piece) in ERRORS {
            match parse(input) {
                Ok(q) => panic!("{input:?} should fail, parsed as {q:?}"),
                Err(e) => {
                    assert_eq!(e.column, *column, "column for {input:?}: {e}");
                    assert!(
                        e.message.contains(piece),
                        "message for {input:?} should contain {piece:?}: {e}"
                    );
                    assert_eq!(e.to_string(), format!("column {}: {}", e.column, e.message));
                }
            }
        }
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error() {
        let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(ok(&deep(MAX_DEPTH)), text("a"));
        let e = parse(&deep(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(e.message.contains("nests deeper"));
        let e = parse(&format!("{}a", "-".repeat(MAX_DEPTH + 1))).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(parse(&format!("{}a", "NOT ".repeat(MAX_DEPTH))).is_ok());
        assert!(parse(&"(".repeat(100_000)).is_err());
    }
}
