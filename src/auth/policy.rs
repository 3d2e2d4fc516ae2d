//! Who may do what, in one place.
//!
//! Until editors sign in with their own accounts (users linked to author bylines),
//! the rules that depend on "own" articles cannot be decided, so this module grants
//! only what is safe without them: editors and admins manage all content and see
//! every status; authors and contributors may read published content like anyone.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

/// A user's role.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    Author,
    Contributor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Author => "author",
            Self::Contributor => "contributor",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "editor" => Ok(Self::Editor),
            "author" => Ok(Self::Author),
            "contributor" => Ok(Self::Contributor),
            other => Err(format!(
                "unknown role `{other}` (admin, editor, author, contributor)"
            )),
        }
    }
}

/// Something a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read drafts, scheduled and archived articles.
    ReadUnpublished,
    /// Create, edit or delete publishers, authors and tags.
    ManageTaxonomy,
    /// Create, edit, publish or delete any article.
    ManageArticles,
}

/// The roles allowed each action.
const MATRIX: &[(Action, &[Role])] = &[
    (Action::ReadUnpublished, &[Role::Admin, Role::Editor]),
    (Action::ManageTaxonomy, &[Role::Admin, Role::Editor]),
    (Action::ManageArticles, &[Role::Admin, Role::Editor]),
];

/// Whether `role` may perform `action`.
pub fn allows(role: Role, action: Action) -> bool {
    MATRIX
        .iter()
        .any(|(a, roles)| *a == action && roles.contains(&role))
}

/// The refusal for `role` attempting `action`.
pub fn require(role: Role, action: Action) -> Result<(), crate::error::ApiError> {
    if allows(role, action) {
        return Ok(());
    }
    let what = match action {
        Action::ReadUnpublished => "read unpublished articles",
        Action::ManageTaxonomy => "create, edit or delete publishers, authors and tags",
        Action::ManageArticles => "create, edit or delete articles",
    };
    Err(crate::error::ApiError::Forbidden(format!(
        "The role `{}` may not {what}; an editor or admin may.",
        role.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_editors_and_admins_manage_content_for_now() {
        for role in [Role::Admin, Role::Editor] {
            assert!(allows(role, Action::ManageArticles));
            assert!(allows(role, Action::ManageTaxonomy));
            assert!(allows(role, Action::ReadUnpublished));
        }
        for role in [Role::Author, Role::Contributor] {
            assert!(!allows(role, Action::ManageArticles));
            assert!(!allows(role, Action::ManageTaxonomy));
            assert!(!allows(role, Action::ReadUnpublished));
        }
    }
}
