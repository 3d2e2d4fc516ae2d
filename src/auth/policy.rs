//! Who may do what, in one place: the matrix below is data, [`decide`] is the one
//! function every endpoint asks.
//!
//! "Own" means the user's linked author is in the article's byline. A user with no
//! linked author owns nothing.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::token::Principal;
use crate::error::ApiError;

/// A user's role.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including users.
    Admin,
    /// All content: every article, publishers, authors and tags.
    Editor,
    /// Their own articles, published or not.
    Author,
    /// Drafts of their own only.
    Contributor,
}

impl Role {
    pub const ALL: [Role; 4] = [Self::Admin, Self::Editor, Self::Author, Self::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Author => "author",
            Self::Contributor => "contributor",
        }
    }

    fn column(self) -> usize {
        match self {
            Self::Admin => 0,
            Self::Editor => 1,
            Self::Author => 2,
            Self::Contributor => 3,
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
    /// Read drafts, scheduled (not yet public) and archived articles.
    ReadUnpublished,
    /// Create an article.
    CreateArticle,
    /// Change an article's fields.
    EditArticle,
    /// Choose an article's slug (on create or update) and get made slugs with the
    /// first free suffix: a slug's fate tells which slugs are taken, so only roles
    /// that can read every article, the trash included, may learn it.
    ChooseSlug,
    /// Change an article's status: publish, schedule, archive, or back to draft.
    PublishArticle,
    /// Move an article to the trash.
    DeleteArticle,
    /// See the trash and restore an article from it.
    RestoreArticle,
    /// Delete an article for good.
    PurgeArticle,
    /// List, approve, mark as spam and delete readers' comments.
    ModerateComments,
    /// Create, edit or delete publishers, authors and tags.
    ManageTaxonomy,
    /// List, create, change and delete user accounts.
    ManageUsers,
    /// Read the events feed (every change, drafts included).
    ReadEvents,
    /// Make and revoke an article's draft-preview links (which show it, whatever its
    /// status, to anyone holding one).
    PreviewLink,
    /// Register, change, test and delete webhooks; see and retry their deliveries.
    ManageWebhooks,
    /// Upload images to the media library and browse it.
    UploadMedia,
    /// Change an asset's metadata (credit, caption, alt text, focal point…); "own"
    /// means the user uploaded it, and "draft" that nothing readers see shows it (a
    /// published story's figure or featured photo, an author's portrait, a logo).
    EditMedia,
    /// Delete an asset (refused while anything uses it).
    DeleteMedia,
}

/// How far a role's permission for an action reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    No,
    /// Articles with the user's author in the byline, while they are drafts.
    OwnDrafts,
    /// Articles with the user's author in the byline (media: that the user uploaded).
    Own,
    All,
}

use Scope::{All, No, Own, OwnDrafts};

/// The matrix: for each action, the scope of admin, editor, author, contributor.
const MATRIX: &[(Action, [Scope; 4])] = &[
    (Action::ReadUnpublished, [All, All, Own, Own]),
    (Action::CreateArticle, [All, All, Own, OwnDrafts]),
    (Action::EditArticle, [All, All, Own, OwnDrafts]),
    (Action::ChooseSlug, [All, All, No, No]),
    (Action::PublishArticle, [All, All, Own, No]),
    (Action::DeleteArticle, [All, All, Own, No]),
    (Action::RestoreArticle, [All, All, No, No]),
    (Action::PurgeArticle, [All, No, No, No]),
    (Action::ModerateComments, [All, All, No, No]),
    (Action::ManageTaxonomy, [All, All, No, No]),
    (Action::ManageUsers, [All, No, No, No]),
    (Action::ReadEvents, [All, All, No, No]),
    (Action::PreviewLink, [All, All, No, No]),
    (Action::ManageWebhooks, [All, No, No, No]),
    (Action::UploadMedia, [All, All, All, All]),
    (Action::EditMedia, [All, All, OwnDrafts, OwnDrafts]),
    (Action::DeleteMedia, [All, All, No, No]),
];

/// The scope `role` has for `action`.
pub fn scope(role: Role, action: Action) -> Scope {
    MATRIX
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(No, |(_, scopes)| scopes[role.column()])
}

/// The article an action is about, as far as permissions care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target {
    /// The actor's author is in the byline.
    pub own: bool,
    /// The article is (or, for a create, will be) a draft.
    pub draft: bool,
}

impl Target {
    /// The target for `principal` acting on a media asset uploaded by `uploader`,
    /// which readers see somewhere (`shown`) or not yet.
    pub fn media(principal: &Principal, uploader: Option<Uuid>, shown: bool) -> Self {
        Self {
            own: uploader == Some(principal.id()),
            draft: !shown,
        }
    }

    /// The target for `principal` acting on an article with this byline and status.
    pub fn article(principal: &Principal, byline: &[Uuid], draft: bool) -> Self {
        Self {
            own: principal
                .author_id()
                .is_some_and(|author| byline.contains(&author)),
            draft,
        }
    }
}

/// Whether `principal` may do `action` (to `target`, for article actions); the
/// 403 says what was missing.
pub fn decide(
    principal: &Principal,
    action: Action,
    target: Option<Target>,
) -> Result<(), ApiError> {
    let role = principal.role;
    let target = target.unwrap_or_default();
    let allowed = match scope(role, action) {
        All => true,
        Own => target.own,
        OwnDrafts => target.own && target.draft,
        No => false,
    };
    if allowed {
        return Ok(());
    }
    let what = match action {
        Action::ReadUnpublished => "read unpublished articles",
        Action::CreateArticle => "create articles",
        Action::EditArticle => "edit articles",
        Action::ChooseSlug => {
            "choose an article's slug (leave `slug` out and one is made from the title)"
        }
        Action::PublishArticle => "change the status of articles (publish, schedule, archive)",
        Action::DeleteArticle => "delete articles",
        Action::RestoreArticle => "see or restore articles in the trash",
        Action::PurgeArticle => "delete articles for good",
        Action::ModerateComments => "moderate comments",
        Action::ManageTaxonomy => "create, edit or delete publishers, authors and tags",
        Action::ManageUsers => "manage users",
        Action::ReadEvents => "read the events feed",
        Action::PreviewLink => "make or revoke preview links",
        Action::ManageWebhooks => "manage webhooks",
        Action::UploadMedia => "upload media",
        Action::EditMedia => "edit media",
        Action::DeleteMedia => "delete media",
    };
    let role_name = role.as_str();
    let detail = match scope(role, action) {
        No => {
            let who: Vec<&str> = Role::ALL
                .iter()
                .filter(|r| scope(**r, action) != No)
                .map(|r| r.as_str())
                .collect();
            format!(
                "The role `{role_name}` may not {what}; the roles that may: {}.",
                who.join(", ")
            )
        }
        _ if action == Action::EditMedia && !target.own => {
            format!("The role `{role_name}` may edit only the media they uploaded.")
        }
        _ if action == Action::EditMedia => format!(
            "The role `{role_name}` may edit the media they uploaded only while readers see it \
             nowhere; it is in a published story (or an author's or publisher's picture), so \
             an editor may change it."
        ),
        _ if principal.author_id().is_none() => format!(
            "The role `{role_name}` may {what} only with their own author in the byline, and this \
             account is not linked to an author; an admin can link it (`author_id`)."
        ),
        Own => {
            format!("The role `{role_name}` may {what} only with their own author in the byline.")
        }
        _ if !target.own => format!(
            "The role `{role_name}` may {what} only with their own author in the byline, and only drafts."
        ),
        _ => format!("The role `{role_name}` may {what} only while they are drafts."),
    };
    Err(ApiError::Forbidden(detail))
}

/// Which articles a reader sees besides the public ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Only articles that are public now.
    Public,
    /// Public articles and every article with this author in the byline.
    PublicAndOwn(Uuid),
    /// Every article.
    All,
}

/// What `principal` (or an anonymous reader, for `None`) may read.
pub fn visibility(principal: Option<&Principal>) -> Visibility {
    let Some(p) = principal else {
        return Visibility::Public;
    };
    match (scope(p.role, Action::ReadUnpublished), p.author_id()) {
        (All, _) => Visibility::All,
        (Own | OwnDrafts, Some(author)) => Visibility::PublicAndOwn(author),
        _ => Visibility::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn principal(role: Role, author: Option<Uuid>) -> Principal {
        Principal {
            user: entity::user::Model {
                id: Uuid::now_v7(),
                email: "x@example.com".into(),
                password_hash: String::new(),
                role: role.as_str().into(),
                author_id: author,
                disabled: false,
                tokens_valid_from: Utc::now(),
                credential_version: 0,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            role,
        }
    }

    #[test]
    fn every_action_has_a_row() {
        for action in [
            Action::ReadUnpublished,
            Action::CreateArticle,
            Action::EditArticle,
            Action::PublishArticle,
            Action::DeleteArticle,
            Action::RestoreArticle,
            Action::PurgeArticle,
            Action::ModerateComments,
            Action::ManageTaxonomy,
            Action::ManageUsers,
            Action::ReadEvents,
            Action::PreviewLink,
            Action::ManageWebhooks,
            Action::UploadMedia,
            Action::EditMedia,
            Action::DeleteMedia,
        ] {
            assert_eq!(MATRIX.iter().filter(|(a, _)| *a == action).count(), 1);
        }
    }

    #[test]
    fn own_follows_the_linked_author() {
        let me = Uuid::now_v7();
        let author = principal(Role::Author, Some(me));
        let own = Target::article(&author, &[Uuid::now_v7(), me], false);
        let theirs = Target::article(&author, &[Uuid::now_v7()], false);
        assert!(decide(&author, Action::PublishArticle, Some(own)).is_ok());
        assert!(decide(&author, Action::PublishArticle, Some(theirs)).is_err());
        let unlinked = principal(Role::Author, None);
        let t = Target::article(&unlinked, &[me], true);
        let err = decide(&unlinked, Action::EditArticle, Some(t)).unwrap_err();
        assert!(err.problem().detail.contains("not linked"), "{err}");
    }

    #[test]
    fn contributors_touch_their_own_drafts_only() {
        let me = Uuid::now_v7();
        let c = principal(Role::Contributor, Some(me));
        let draft = Target {
            own: true,
            draft: true,
        };
        let published = Target {
            own: true,
            draft: false,
        };
        assert!(decide(&c, Action::EditArticle, Some(draft)).is_ok());
        assert!(decide(&c, Action::EditArticle, Some(published)).is_err());
        assert!(decide(&c, Action::PublishArticle, Some(draft)).is_err());
        assert!(decide(&c, Action::DeleteArticle, Some(draft)).is_err());
        assert_eq!(visibility(Some(&c)), Visibility::PublicAndOwn(me));
    }

    #[test]
    fn refusals_name_who_may() {
        let editor = principal(Role::Editor, None);
        let err = decide(&editor, Action::ManageUsers, None).unwrap_err();
        assert_eq!(
            err.problem().detail,
            "The role `editor` may not manage users; the roles that may: admin."
        );
        assert_eq!(visibility(Some(&editor)), Visibility::All);
        assert_eq!(visibility(None), Visibility::Public);
    }
}
