//! Change notifications for presence: subscriptions on `/communications/presences`, webhooks, and
//! rich notifications, on the server's clock (virtual or real).
//!
//! - [`resource`]: the presence resources a subscription names (one user, or up to 650).
//! - [`subscription`]: the subscription resource, its limits, and how it is shown.
//! - [`store`]: the subscriptions held, one per user and app.
//! - [`change`]: change detection from the pure model (writes and timers).
//! - [`payload`]: the notification bodies (basic, rich, lifecycle).
//! - [`rich`]: the documented encryption of resource data, and its receiving side.
//! - [`token`]: `validationTokens`, signed by the server's own key.
//! - [`delivery`]: the bounded outbox, retries on the server's clock, endpoint validation.
//! - [`receiver`]: the runner's webhook (validation, records, decryption).
//! - [`hub`]: the notifier a server holds, tying them together.

pub mod change;
pub mod delivery;
pub mod hub;
pub mod payload;
pub mod receiver;
pub mod resource;
pub mod rich;
pub mod store;
pub mod subscription;
pub mod token;

pub use change::{Cause, Change, Watch};
pub use hub::{Faults, Notifier};
pub use rich::{EncryptedContent, ReceiverKey};
pub use subscription::{Owner, RenewalBody, SubscriptionBody, SubscriptionError};
