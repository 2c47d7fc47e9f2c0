//! Typed ids where money moves. A ledger entry names a company and a worker side by side
//! (an accrual debits one and credits the other); as plain strings one could be passed for the
//! other and the books would still balance. Each id here is its own type, so it cannot.

use serde::{Deserialize, Serialize};

macro_rules! id_types {
    ($($name:ident: $what:literal),* $(,)?) => {$(
        #[doc = concat!("The id of ", $what, " (a UUIDv7 as text).")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<DB: sqlx_core::database::Database> sqlx_core::types::Type<DB> for $name
        where
            String: sqlx_core::types::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx_core::types::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx_core::types::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q, DB: sqlx_core::database::Database> sqlx_core::encode::Encode<'q, DB> for $name
        where
            String: sqlx_core::encode::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut DB::ArgumentBuffer,
            ) -> Result<sqlx_core::encode::IsNull, sqlx_core::error::BoxDynError> {
                self.0.encode_by_ref(buf)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r, DB: sqlx_core::database::Database> sqlx_core::decode::Decode<'r, DB> for $name
        where
            String: sqlx_core::decode::Decode<'r, DB>,
        {
            fn decode(
                value: DB::ValueRef<'r>,
            ) -> Result<Self, sqlx_core::error::BoxDynError> {
                Ok(Self(<String as sqlx_core::decode::Decode<'r, DB>>::decode(value)?))
            }
        }
    )*};
}

id_types! {
    CompanyId: "a company",
    WorkerId: "a worker (her profile)",
    AssignmentId: "an assignment",
    InvoiceId: "an invoice",
    CreditNoteId: "a credit note",
    PaymentId: "a company's payment",
    PayoutLineId: "a payout line",
}
