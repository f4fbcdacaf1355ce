//! The rule catalogue (`spec/rules.yaml`): every behaviour the cases check, with a stable id, a
//! statement, a level (what the rule rests on) and its source. A case names the rules it checks;
//! each expectation is judged at the level of its rule, so only a broken `documented` or
//! `observed` rule fails a third party, and a difference in one of our own choices deviates.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::model::Profile;

/// The catalogue this build carries.
const BUNDLED: &str = include_str!("../spec/rules.yaml");

/// What a rule rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Microsoft's pages say it.
    Documented,
    /// A public report of the real service shows it.
    Observed,
    /// The reference server's choice where the sources are silent or contradict each other.
    Ours,
}

impl Aspect {
    pub const ALL: [Aspect; 3] = [Aspect::Status, Aspect::ErrorCode, Aspect::SequenceNumber];
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Documented, Level::Observed, Level::Ours];

    /// Whether breaking a rule of this level fails a target without `--strict`.
    pub fn fails_by_default(self) -> bool {
        !matches!(self, Level::Ours)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Documented => "documented",
            Level::Observed => "observed",
            Level::Ours => "ours",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An expectation that has rules of its own, apart from the step's general rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aspect {
    /// `expect.status` when it names a refusal (a code outside 2xx): the code itself, judged
    /// apart from what the refusal means for the state (which the step's general rule judges).
    Status,
    /// `expect.error`: the `error.code` of a response.
    ErrorCode,
    /// `observe.sequenceNumber`.
    SequenceNumber,
}

/// Where a rule comes from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Source {
    /// A page or a report: its address and a short quote.
    Page { url: String, quote: String },
    /// One of the numbered Interpretations in `docs/interpretations.md`.
    Interpretation {
        interpretation: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

/// One rule of the catalogue.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub statement: String,
    pub level: Level,
    /// One source, or several (`source: [{url, quote}, ...]`): for example the API page for the
    /// behaviour and the Graph errors page or a report for its status code.
    #[serde(rename = "source", with = "sources")]
    pub sources: Vec<Source>,
    /// API profiles it applies to; empty: all of them.
    #[serde(default, with = "profiles", skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<Profile>,
    /// The expectations this rule is specifically about (error codes, sequence numbers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Aspect>,
    /// This rule judges every expectation of that aspect that no case rule claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_for: Option<Aspect>,
    /// Why no case can check this rule (a documented or observed rule needs a case or this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untestable: Option<String>,
}

impl Rule {
    /// The address of its first page source.
    pub fn url(&self) -> Option<&str> {
        self.sources.iter().find_map(|s| match s {
            Source::Page { url, .. } => Some(url.as_str()),
            Source::Interpretation { .. } => None,
        })
    }

    /// The quotes of its page sources.
    pub fn quotes(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().filter_map(|s| match s {
            Source::Page { quote, .. } => Some(quote.as_str()),
            Source::Interpretation { .. } => None,
        })
    }

    /// The sources in one line: the addresses, or the Interpretations they record.
    pub fn source_line(&self) -> String {
        let each: Vec<String> = self
            .sources
            .iter()
            .map(|s| match s {
                Source::Page { url, .. } => url.clone(),
                Source::Interpretation { interpretation, .. } => {
                    format!("Interpretation {interpretation} (docs/interpretations.md)")
                }
            })
            .collect();
        each.join(", ")
    }

    pub fn applies_to(&self, profile: Profile) -> bool {
        self.profiles.is_empty() || self.profiles.contains(&profile)
    }
}

mod profiles {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::Profile;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Profile>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|p| p.parse().map_err(serde::de::Error::custom))
            .collect()
    }

    pub(crate) fn serialize<S: Serializer>(profiles: &[Profile], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(profiles.iter().map(|p| p.as_str()))
    }
}

mod sources {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Source;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Source),
        Many(Vec<Source>),
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Source>, D::Error> {
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(source) => vec![source],
            OneOrMany::Many(sources) => sources,
        })
    }

    pub(crate) fn serialize<S: Serializer>(sources: &[Source], s: S) -> Result<S::Ok, S::Error> {
        match sources {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    rules: Vec<Rule>,
}

/// Why a catalogue cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("spec/rules.yaml: {0}")]
    Yaml(String),
    #[error("spec/rules.yaml: rule '{0}' is listed twice")]
    Duplicate(String),
    #[error("spec/rules.yaml: rule '{id}': {problem}")]
    Invalid { id: String, problem: String },
    #[error("spec/rules.yaml: no rule is the default for {0:?} expectations (`default_for`)")]
    NoDefault(Aspect),
}

/// What the catalogue reads of a case to count coverage: its name, and the rules it checks (those
/// it names and every rule one of its expectations rests on).
pub trait ChecksRules {
    fn case_name(&self) -> &str;
    fn rule_ids(&self) -> Vec<&str>;
}

/// Every rule, by id.
#[derive(Debug)]
pub struct Catalogue {
    rules: Vec<Rule>,
    index: HashMap<String, usize>,
}

static CATALOGUE: LazyLock<Result<Catalogue, String>> =
    LazyLock::new(|| Catalogue::parse(BUNDLED).map_err(|e| e.to_string()));

impl Catalogue {
    /// The catalogue compiled into this build (checked by a test, so it always loads).
    pub fn bundled() -> &'static Catalogue {
        match &*CATALOGUE {
            Ok(catalogue) => catalogue,
            Err(e) => panic!("the bundled rule catalogue is broken: {e}"),
        }
    }

    /// The bundled catalogue, or why it does not load.
    pub fn try_bundled() -> Result<&'static Catalogue, String> {
        CATALOGUE.as_ref().map_err(Clone::clone)
    }

    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile =
            serde_saphyr::from_str(text).map_err(|e| CatalogueError::Yaml(e.to_string()))?;
        let mut index = HashMap::new();
        for (i, rule) in file.rules.iter().enumerate() {
            check_rule(rule)?;
            if index.insert(rule.id.clone(), i).is_some() {
                return Err(CatalogueError::Duplicate(rule.id.clone()));
            }
        }
        let catalogue = Catalogue {
            rules: file.rules,
            index,
        };
        for aspect in Aspect::ALL {
            catalogue.default_for(aspect)?;
        }
        Ok(catalogue)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.index.get(id).map(|&i| &self.rules[i])
    }

    /// The rule that judges expectations of `aspect` that no case rule claims.
    pub(crate) fn default_for(&self, aspect: Aspect) -> Result<&Rule, CatalogueError> {
        self.rules
            .iter()
            .find(|r| r.default_for == Some(aspect))
            .ok_or(CatalogueError::NoDefault(aspect))
    }

    /// Each rule with the cases that check it (by name, in the order given).
    pub fn coverage<'c, C: ChecksRules + 'c>(
        &self,
        cases: impl IntoIterator<Item = &'c C>,
    ) -> Vec<(&Rule, Vec<String>)> {
        let mut covered: Vec<Vec<String>> = vec![Vec::new(); self.rules.len()];
        for case in cases {
            let name = case.case_name();
            for id in case.rule_ids() {
                if let Some(&i) = self.index.get(id)
                    && !covered[i].iter().any(|n| n == name)
                {
                    covered[i].push(name.to_owned());
                }
            }
        }
        self.rules.iter().zip(covered).collect()
    }

    /// Rule ids close to `id`, for "did you mean".
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }
}

fn check_rule(rule: &Rule) -> Result<(), CatalogueError> {
    let invalid = |problem: &str| CatalogueError::Invalid {
        id: rule.id.clone(),
        problem: problem.to_owned(),
    };
    let well_formed = !rule.id.is_empty()
        && rule
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !well_formed {
        return Err(invalid("an id is letters, digits, '.', '-' and '_'"));
    }
    if rule.statement.trim().is_empty() {
        return Err(invalid("the statement is empty"));
    }
    if rule.sources.is_empty() {
        return Err(invalid("a rule has at least one source"));
    }
    for source in &rule.sources {
        match (source, rule.level) {
            (Source::Page { url, quote }, Level::Documented | Level::Observed) => {
                if !url.starts_with("https://") || quote.trim().is_empty() {
                    return Err(invalid("a source needs an https:// url and a quote"));
                }
            }
            (Source::Interpretation { .. }, Level::Ours) => {}
            (Source::Page { .. }, Level::Ours) => {
                return Err(invalid(
                    "an `ours` rule cites the Interpretation it records (docs/interpretations.md) (`interpretation: N`); name the pages in its note",
                ));
            }
            (Source::Interpretation { .. }, _) => {
                return Err(invalid(
                    "a documented or observed rule cites its pages: `url` and `quote`",
                ));
            }
        }
    }
    if rule
        .untestable
        .as_ref()
        .is_some_and(|why| why.trim().is_empty())
    {
        return Err(invalid("`untestable` says why no case can check the rule"));
    }
    if let Some(aspect) = rule.default_for
        && !rule.checks.contains(&aspect)
    {
        return Err(invalid("`default_for` names an aspect the rule `checks`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalogue_loads() {
        let catalogue = Catalogue::try_bundled().expect("spec/rules.yaml");
        assert!(catalogue.get("errors.code").is_some());
        assert_eq!(
            catalogue
                .default_for(Aspect::ErrorCode)
                .map(|r| r.level)
                .ok(),
            Some(Level::Ours)
        );
    }

    #[test]
    fn levels_need_their_kind_of_source() {
        let text = "rules:\n  - id: a.b\n    statement: s\n    level: documented\n    source: { interpretation: 3 }\n";
        let e = Catalogue::parse(text).unwrap_err().to_string();
        assert!(e.contains("cites its pages"), "{e}");
        let text = "rules:\n  - id: a.b\n    statement: s\n    level: ours\n    source: { interpretation: 3 }\n  - id: a.b\n    statement: s\n    level: ours\n    source: { interpretation: 3 }\n";
        assert!(matches!(
            Catalogue::parse(text),
            Err(CatalogueError::Duplicate(_))
        ));
    }
}
