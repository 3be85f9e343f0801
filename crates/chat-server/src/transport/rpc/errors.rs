//! Service errors → JSON-RPC error objects, in one place.

use chat_api::{
    ErrorCode,
    errors::{RateLimitedData, TooManyRoomsData},
};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};

use crate::service::ServiceError;

/// An error object with one of the contract's codes.
pub(crate) fn error_object(code: ErrorCode, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(code.code(), message.into(), None::<()>)
}

impl From<ServiceError> for ErrorObjectOwned {
    fn from(e: ServiceError) -> Self {
        let message = e.to_string();
        match e {
            ServiceError::Invalid(_) => error_object(ErrorCode::InvalidParams, message),
            ServiceError::NotAuthenticated => error_object(ErrorCode::NotAuthenticated, message),
            ServiceError::Forbidden(_) => error_object(ErrorCode::Forbidden, message),
            ServiceError::NotFound(_) => error_object(ErrorCode::NotFound, message),
            ServiceError::RateLimited(wait) => {
                let retry_after_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
                ErrorObject::owned(ErrorCode::RateLimited.code(), message, Some(RateLimitedData { retry_after_ms }))
            }
            ServiceError::Banned(_) => error_object(ErrorCode::Banned, message),
            ServiceError::NotMember(_) => error_object(ErrorCode::NotMember, message),
            ServiceError::RoomFull(_) => error_object(ErrorCode::RoomFull, message),
            ServiceError::TooManyRooms(max) => {
                let max_rooms = u64::try_from(max).unwrap_or(u64::MAX);
                ErrorObject::owned(ErrorCode::InvalidParams.code(), message, Some(TooManyRoomsData { max_rooms }))
            }
            ServiceError::Storage(cause) if cause.is_unavailable() => {
                tracing::warn!(error = %cause, "call failed: the database is unavailable");
                error_object(ErrorCode::Internal, "the database is unavailable: nothing was changed; try again")
            }
            ServiceError::Storage(cause) => {
                tracing::error!(error = %cause, "call failed in storage");
                error_object(ErrorCode::Internal, "internal error")
            }
        }
    }
}
