//! oslo.policy check strings: parsing (`role:admin and (project_id:%(node.owner)s
//! or rule:x)`, `not`, `@`, `!`) and evaluation against a principal and a target.
//!
//! Grammar, loosest binding first: `or`, `and`, `not`, then a parenthesised check or
//! an atom. Atoms are `@` (always), `!` (never) and `kind:match`: `rule:NAME` refers
//! to another rule, `role:NAME` tests the principal's roles, any other kind compares
//! a credential (`project_id`, `system_scope`, …) with the match, where a match
//! written `%(key)s` is the target's value and fails when the target has none. An
//! empty check string always passes.

use std::fmt;

/// A parsed check string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Always,
    Never,
    Rule(String),
    Role(Match),
    /// A credential compared with a value; a quoted kind is a literal instead.
    Generic {
        kind: Kind,
        value: Match,
    },
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
}

/// The left side of a generic check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Credential(String),
    Literal(String),
}

/// The right side of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Literal(String),
    /// `%(key)s`: the target's value of `key`.
    Target(String),
}

/// Why a check string does not parse, and where (a 1-based column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.column)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    And,
    Or,
    Not,
    Atom(&'a str),
}

/// Splits on whitespace; a word's leading `(` and trailing `)` are tokens of their
/// own (oslo allows them glued to checks: `(role:a or role:b)`), while parentheses
/// inside a word stay (`%(node.owner)s`). Each token keeps its 1-based column.
fn tokenize(text: &str) -> Vec<(usize, Token<'_>)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        let len = rest[start..]
            .find(char::is_whitespace)
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + len];
        let column = offset + start + 1;
        let inner = word.trim_start_matches('(');
        let opens = word.len() - inner.len();
        out.extend((0..opens).map(|i| (column + i, Token::Open)));
        let atom = inner.trim_end_matches(')');
        let closes = inner.len() - atom.len();
        if !atom.is_empty() {
            let token = match atom {
                "and" => Token::And,
                "or" => Token::Or,
                "not" => Token::Not,
                _ => Token::Atom(atom),
            };
            out.push((column + opens, token));
        }
        let close_at = column + opens + atom.len();
        out.extend((0..closes).map(|i| (close_at + i, Token::Close)));
        offset += start + len;
        rest = &rest[start + len..];
    }
    out
}

struct Parser<'a> {
    tokens: Vec<(usize, Token<'a>)>,
    pos: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(c, _)| *c)
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            column: self.column(),
            message: message.into(),
        }
    }

    fn or(&mut self) -> Result<Check, ParseError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Check::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Check, ParseError> {
        let mut parts = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Check::And(parts)
        })
    }

    fn not(&mut self) -> Result<Check, ParseError> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Check::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Check, ParseError> {
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(self.error("expected ')'"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Atom(word)) => {
                let check = atom(word).map_err(|m| self.error(m))?;
                self.pos += 1;
                Ok(check)
            }
            Some(Token::Close) => Err(self.error("unexpected ')'")),
            Some(Token::And) | Some(Token::Or) => {
                Err(self.error("expected a check before 'and'/'or'"))
            }
            Some(Token::Not) => unreachable!("handled by not()"),
            None => Err(self.error("expected a check")),
        }
    }
}

/// One atom: `@`, `!` or `kind:match`.
fn atom(word: &str) -> Result<Check, String> {
    match word {
        "@" => return Ok(Check::Always),
        "!" => return Ok(Check::Never),
        _ => {}
    }
    let Some((kind, value)) = word.split_once(':') else {
        return Err(format!("'{word}' is not a check (kind:match, @ or !)"));
    };
    if kind.is_empty() || value.is_empty() {
        return Err(format!("'{word}' is not a check (kind:match, @ or !)"));
    }
    let value = parse_match(value)?;
    Ok(match kind {
        "rule" => match value {
            Match::Literal(name) => Check::Rule(name),
            Match::Target(_) => return Err(format!("'{word}': a rule is named, not substituted")),
        },
        "role" => Check::Role(value),
        "http" | "https" => {
            return Err(format!("'{word}': remote (http) checks are not supported"))
        }
        _ => {
            let quoted = kind.len() >= 2
                && ((kind.starts_with('\'') && kind.ends_with('\''))
                    || (kind.starts_with('"') && kind.ends_with('"')));
            let kind = if quoted {
                Kind::Literal(kind[1..kind.len() - 1].to_string())
            } else {
                Kind::Credential(kind.to_string())
            };
            Check::Generic { kind, value }
        }
    })
}

fn parse_match(value: &str) -> Result<Match, String> {
    if let Some(rest) = value.strip_prefix("%(") {
        let Some(key) = rest.strip_suffix(")s") else {
            return Err(format!("'{value}': a substitution is written %(key)s"));
        };
        if key.is_empty() || key.contains(['(', ')', '%']) {
            return Err(format!("'{value}': a substitution is written %(key)s"));
        }
        return Ok(Match::Target(key.to_string()));
    }
    if value.contains("%(") {
        return Err(format!("'{value}': a substitution is written %(key)s"));
    }
    Ok(Match::Literal(value.to_string()))
}

impl Check {
    /// Parses a check string; the empty string always passes.
    pub fn parse(text: &str) -> Result<Check, ParseError> {
        let tokens = tokenize(text);
        if tokens.is_empty() {
            return Ok(Check::Always);
        }
        let mut parser = Parser {
            tokens,
            pos: 0,
            end: text.chars().count() + 1,
        };
        let check = parser.or()?;
        if parser.pos != parser.tokens.len() {
            return Err(parser.error(match parser.peek() {
                Some(Token::Close) => "unexpected ')'",
                _ => "expected 'and' or 'or'",
            }));
        }
        Ok(check)
    }

    /// Every rule this check refers to.
    pub(crate) fn references(&self, out: &mut Vec<String>) {
        match self {
            Check::Rule(name) => out.push(name.clone()),
            Check::Not(inner) => inner.references(out),
            Check::And(parts) | Check::Or(parts) => parts.iter().for_each(|p| p.references(out)),
            _ => {}
        }
    }
}

/// The value of a match for one evaluation, `None` when a substitution's key is
/// absent from the target.
pub(crate) fn resolve<'t>(
    value: &'t Match,
    target: &'t dyn Fn(&str) -> Option<&'t str>,
) -> Option<&'t str> {
    match value {
        Match::Literal(s) => Some(s),
        Match::Target(key) => target(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(r: &str) -> Check {
        Check::Role(Match::Literal(r.into()))
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tightest() {
        let c = Check::parse("role:a or role:b and not role:c").unwrap();
        assert_eq!(
            c,
            Check::Or(vec![
                role("a"),
                Check::And(vec![role("b"), Check::Not(Box::new(role("c")))])
            ])
        );
    }

    #[test]
    fn parentheses_may_touch_their_checks() {
        let c = Check::parse("(role:admin and system_scope:all) or (project_id:%(node.owner)s)")
            .unwrap();
        let Check::Or(parts) = c else { panic!() };
        assert_eq!(
            parts[1],
            Check::Generic {
                kind: Kind::Credential("project_id".into()),
                value: Match::Target("node.owner".into())
            }
        );
    }

    #[test]
    fn rules_special_atoms_and_empty() {
        assert_eq!(Check::parse("").unwrap(), Check::Always);
        assert_eq!(Check::parse("@").unwrap(), Check::Always);
        assert_eq!(Check::parse(" ! ").unwrap(), Check::Never);
        assert_eq!(
            Check::parse("rule:baremetal:node:get").unwrap(),
            Check::Rule("baremetal:node:get".into())
        );
    }

    #[test]
    fn errors_name_the_column() {
        let e = Check::parse("role:admin and").unwrap_err();
        assert_eq!(e.column, 15, "{e}");
        let e = Check::parse("role:admin or (role:b").unwrap_err();
        assert_eq!(e.message, "expected ')'");
        let e = Check::parse("role:a role:b").unwrap_err();
        assert_eq!(
            (e.column, e.message.as_str()),
            (8, "expected 'and' or 'or'")
        );
        let e = Check::parse("role:a and admin").unwrap_err();
        assert_eq!(e.column, 12);
        assert!(e.message.contains("not a check"), "{e}");
        assert!(Check::parse("project_id:%(node.owner)").is_err());
        assert!(Check::parse("http://example/check").is_err());
        assert!(Check::parse("role:a )").is_err());
    }
}
