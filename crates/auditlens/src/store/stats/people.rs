//! Identities on the dashboards: the actor values the auditor said are one person (the working papers'
//! aliases, docs/working-papers.md) counted as that person in every list of actors, with the query
//! `person:NAME` as the drill-down, so a top list shows `anaya` once instead of `anaya` and her ARN apart.

use std::collections::HashMap;

use super::StatsError;
use super::model::Figure;
use crate::store::Store;

/// The aliases of the working papers, keyed as `COLLATE NOCASE` compares them (ASCII case folded), which is
/// how `person:NAME` finds its events.
#[derive(Debug, Default)]
pub(super) struct People {
    /// Aliased actor value (folded) -> the person, as first spelled.
    by_actor: HashMap<String, String>,
    /// Person (folded) -> the person, as first spelled.
    names: HashMap<String, String>,
}

impl People {
    /// The identities of the store's working papers (none when it has no papers file).
    pub(super) fn load(store: &Store) -> Result<People, StatsError> {
        let mut people = People::default();
        let mut stmt = store
            .conn
            .prepare("SELECT actor, person FROM papers.aliases ORDER BY person, actor")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (actor, person) = row?;
            let spelled = people
                .names
                .entry(person.to_ascii_lowercase())
                .or_insert(person)
                .clone();
            people.by_actor.insert(actor.to_ascii_lowercase(), spelled);
        }
        Ok(people)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The person an actor value counts as: its alias, else the person of that name when the value is one
    /// (an unaliased `anaya` is the person `anaya`, as `person:anaya` finds it).
    fn person_of(&self, actor: &str) -> Option<&String> {
        let folded = actor.to_ascii_lowercase();
        self.by_actor
            .get(&folded)
            .or_else(|| self.names.get(&folded))
    }

    /// `figures` (one per actor value) with the actors of one person summed into one figure named after the
    /// person, whose drill-down is `drill(person)` and whose `identities` are the actor values; then the
    /// `top` largest, largest first (ties by name, as the other top lists), when given.
    pub(super) fn fold(
        &self,
        figures: Vec<Figure>,
        top: Option<usize>,
        drill: impl Fn(&str) -> String,
    ) -> Vec<Figure> {
        let mut out: Vec<Figure> = Vec::with_capacity(figures.len());
        let mut at: HashMap<String, usize> = HashMap::new();
        for f in figures {
            let Some((person, actor)) = f
                .key
                .as_deref()
                .and_then(|k| self.person_of(k).map(|p| (p.clone(), k.to_owned())))
            else {
                out.push(f);
                continue;
            };
            match at.get(&person.to_ascii_lowercase()) {
                Some(&i) => {
                    out[i].count += f.count;
                    out[i].identities.get_or_insert_with(Vec::new).push(actor);
                }
                None => {
                    at.insert(person.to_ascii_lowercase(), out.len());
                    out.push(Figure {
                        drill: drill(&person),
                        key: Some(person),
                        count: f.count,
                        identities: Some(vec![actor]),
                    });
                }
            }
        }
        for f in &mut out {
            if let Some(ids) = &mut f.identities {
                ids.sort();
            }
        }
        if let Some(top) = top {
            out.sort_by(|a, b| {
                b.count.cmp(&a.count).then_with(|| {
                    let k = |f: &Figure| f.key.as_deref().map(str::to_ascii_lowercase);
                    k(a).cmp(&k(b))
                })
            });
            out.truncate(top);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(key: Option<&str>, count: u64) -> Figure {
        Figure {
            key: key.map(str::to_owned),
            count,
            drill: format!("actor:{key:?}"),
            identities: None,
        }
    }

    fn people(pairs: &[(&str, &str)]) -> People {
        let mut p = People::default();
        for (actor, person) in pairs {
            let spelled = p
                .names
                .entry(person.to_ascii_lowercase())
                .or_insert_with(|| (*person).to_owned())
                .clone();
            p.by_actor.insert(actor.to_ascii_lowercase(), spelled);
        }
        p
    }

    #[test]
    fn sums_a_persons_actors_and_reranks() {
        let p = people(&[
            ("arn:aws:iam::1:user/anaya", "anaya"),
            ("anaya@example.com", "Anaya"),
        ]);
        let figures = vec![
            fig(Some("bob"), 5),
            fig(Some("ARN:aws:iam::1:user/anaya"), 3),
            fig(Some("anaya"), 2),
            fig(None, 9),
            fig(Some("anaya@example.com"), 1),
            fig(Some("carol"), 4),
        ];
        let out = p.fold(figures, Some(3), |person| format!("person:{person}"));
        let got: Vec<(Option<&str>, u64)> =
            out.iter().map(|f| (f.key.as_deref(), f.count)).collect();
        assert_eq!(got, [(None, 9), (Some("anaya"), 6), (Some("bob"), 5)]);
        assert_eq!(out[1].drill, "person:anaya");
        assert_eq!(
            out[1].identities.as_deref(),
            Some(
                &[
                    "ARN:aws:iam::1:user/anaya".to_owned(),
                    "anaya".to_owned(),
                    "anaya@example.com".to_owned()
                ][..]
            )
        );
        assert_eq!(out[2].identities, None);
    }

    #[test]
    fn without_top_keeps_the_order_and_every_figure() {
        let p = people(&[("a2", "a")]);
        let out = p.fold(
            vec![fig(Some("z"), 1), fig(Some("a2"), 1), fig(Some("A"), 1)],
            None,
            |x| x.to_owned(),
        );
        let got: Vec<(Option<&str>, u64)> =
            out.iter().map(|f| (f.key.as_deref(), f.count)).collect();
        assert_eq!(got, [(Some("z"), 1), (Some("a"), 2)]);
    }
}
