//! Why a call was refused, more exactly than its status: the reason codes of
//! `aes5_buffer_manager_get_last_refusal` and of the `log_detail` text. Each names what the
//! `subject` and `detail` numbers of the refusal mean.

/// The exact reason of a refusal (`aes5_refusal_reason_t`). Values are never renumbered or
/// reused.
pub type Aes5RefusalReason = u32;
/// No refusal was recorded since init.
pub const AES5_REFUSAL_NONE: Aes5RefusalReason = 0;
/// A pointer parameter is NULL (`AES5_ERR_NULL_POINTER`). `subject`: its position in the
/// call's parameter list, counting the manager as 1.
pub const AES5_REFUSAL_NULL_ARGUMENT: Aes5RefusalReason = 1;
/// The buffer type is not an `aes5_buffer_type_t` (`AES5_ERR_INVALID_ARGUMENT`). `subject`: the
/// number passed.
pub const AES5_REFUSAL_BAD_BUFFER_TYPE: Aes5RefusalReason = 2;
/// The buffer type has no pool in this build (`AES5_ERR_NO_POOL_FOR_TYPE`). `subject`: the type.
pub const AES5_REFUSAL_NO_POOL: Aes5RefusalReason = 3;
/// The format breaks a rule (`AES5_ERR_UNSUPPORTED_FORMAT`, `AES5_ERR_FORMAT_TOO_LARGE`).
/// `subject`: the `aes5_format_problem_t`; `detail`: the pool (buffer type) asked for.
pub const AES5_REFUSAL_BAD_FORMAT: Aes5RefusalReason = 4;
/// Every buffer of the pool is held (`AES5_ERR_POOL_EXHAUSTED`). `subject`: the pool (buffer
/// type); `detail`: how many buffers it has.
pub const AES5_REFUSAL_POOL_EXHAUSTED: Aes5RefusalReason = 5;
/// The manager is in Error: a damaged buffer was found, and allocation waits for
/// `transition_state` to Ready (`AES5_ERR_INVALID_STATE`). `subject`: the state.
pub const AES5_REFUSAL_MANAGER_IN_ERROR: Aes5RefusalReason = 6;
/// Shutdown is pending: nothing is allocated any more (`AES5_ERR_INVALID_STATE`). `subject`:
/// the state.
pub const AES5_REFUSAL_SHUTTING_DOWN: Aes5RefusalReason = 7;
/// The manager is shut down: only init again brings it back (`AES5_ERR_INVALID_STATE`).
/// `subject`: the state.
pub const AES5_REFUSAL_SHUT_DOWN: Aes5RefusalReason = 8;
/// `transition_state` was asked for a change it does not make (`AES5_ERR_INVALID_STATE`).
/// `subject`: the state then; `detail`: the state asked for.
pub const AES5_REFUSAL_NOT_A_TRANSITION: Aes5RefusalReason = 9;
/// The state number is not an `aes5_manager_state_t` (`AES5_ERR_INVALID_ARGUMENT`). `subject`:
/// the number passed.
pub const AES5_REFUSAL_BAD_STATE: Aes5RefusalReason = 10;
/// Shutdown waits for held buffers (`AES5_ERR_BUFFERS_OUTSTANDING`). `subject`: how many
/// buffers are held (quarantined ones are out of service, not held).
pub const AES5_REFUSAL_BUFFERS_HELD: Aes5RefusalReason = 11;
/// There is no hand-off queue of that number (`AES5_ERR_INVALID_ARGUMENT`). `subject`: the
/// number passed; `detail`: `AES5_QUEUE_COUNT`.
pub const AES5_REFUSAL_BAD_QUEUE: Aes5RefusalReason = 12;
/// The pointer is outside this manager's storage: from malloc, the stack, a copy of a header,
/// or another manager (`AES5_ERR_FOREIGN_BUFFER`).
pub const AES5_REFUSAL_OUTSIDE_STORAGE: Aes5RefusalReason = 13;
/// The pointer is inside a buffer's data area: its data pointer, passed where its header is
/// expected (`AES5_ERR_FOREIGN_BUFFER`). `subject`: the buffer; `detail`: the byte offset into
/// its data.
pub const AES5_REFUSAL_DATA_POINTER: Aes5RefusalReason = 14;
/// The pointer is inside a header, not at its start (`AES5_ERR_FOREIGN_BUFFER`). `subject`: the
/// buffer; `detail`: the byte offset into its header.
pub const AES5_REFUSAL_INSIDE_HEADER: Aes5RefusalReason = 15;
/// The pointer is in a guard zone next to a buffer's data (`AES5_ERR_FOREIGN_BUFFER`).
/// `subject`: the buffer whose data follows the zone (`AES5_NO_BUFFER` after the last);
/// `detail`: the byte offset into the zone.
pub const AES5_REFUSAL_GUARD_ZONE_POINTER: Aes5RefusalReason = 16;
/// The pointer is inside the manager's own records, not a buffer (`AES5_ERR_FOREIGN_BUFFER`).
/// `detail`: the byte offset into the storage.
pub const AES5_REFUSAL_MANAGER_RECORDS: Aes5RefusalReason = 17;
/// The buffer is free: released before (`AES5_ERR_DOUBLE_RELEASE`). `subject`: the buffer;
/// `detail`: the sequence number of its last allocation.
pub const AES5_REFUSAL_ALREADY_FREE: Aes5RefusalReason = 18;
/// The buffer waits in a hand-off queue (`AES5_ERR_BUFFER_QUEUED`). `subject`: the buffer;
/// `detail`: the queue.
pub const AES5_REFUSAL_IN_QUEUE: Aes5RefusalReason = 19;
/// The buffer was quarantined by an earlier call and is out of service until init
/// (`AES5_ERR_CORRUPTED`). `subject`: the buffer.
pub const AES5_REFUSAL_QUARANTINED_BEFORE: Aes5RefusalReason = 20;
/// The header's magic number was overwritten (`AES5_ERR_CORRUPTED`). `subject`: the buffer.
pub const AES5_REFUSAL_BAD_MAGIC: Aes5RefusalReason = 21;
/// A header identity field (`buffer_id`, the type, `buffer_capacity_bytes`, `data_pointer`)
/// was changed (`AES5_ERR_CORRUPTED`). `subject`: the buffer.
pub const AES5_REFUSAL_IDENTITY_CHANGED: Aes5RefusalReason = 22;
/// `data_size_bytes` is above the buffer's capacity (`AES5_ERR_CORRUPTED`). `subject`: the
/// buffer; `detail`: the size found.
pub const AES5_REFUSAL_SIZE_ABOVE_CAPACITY: Aes5RefusalReason = 23;
/// The header checksum does not match its format and sequence fields (`AES5_ERR_CORRUPTED`).
/// `subject`: the buffer.
pub const AES5_REFUSAL_BAD_CHECKSUM: Aes5RefusalReason = 24;
/// Data was written past the end of the buffer, into the guard zone after it
/// (`AES5_ERR_CORRUPTED`). `subject`: the buffer; `detail`: the buffer sharing that zone
/// (`AES5_NO_BUFFER` for the last).
pub const AES5_REFUSAL_WRITTEN_PAST_END: Aes5RefusalReason = 25;
/// Data was written before the start of the buffer, into the guard zone before it
/// (`AES5_ERR_CORRUPTED`). `subject`: the buffer; `detail`: the buffer sharing that zone
/// (`AES5_NO_BUFFER` for the first).
pub const AES5_REFUSAL_WRITTEN_BEFORE_START: Aes5RefusalReason = 26;
/// The integrity sweep found a free buffer's header written after its release
/// (`AES5_ERR_CORRUPTED`). `subject`: the buffer.
pub const AES5_REFUSAL_WRITTEN_AFTER_RELEASE: Aes5RefusalReason = 27;
/// A hand-off queue gave a slot that is not one of this manager's buffers: the manager's own
/// records were overwritten (`AES5_ERR_CORRUPTED`). `subject`: the queue; `detail`: the slot.
pub const AES5_REFUSAL_BAD_QUEUE_ENTRY: Aes5RefusalReason = 28;
/// Only from `aes5_buffer_manager_get_last_refusal`: a refusal was being recorded by a call
/// this one interrupted, during every attempt to read it; ask again.
pub const AES5_REFUSAL_BEING_RECORDED: Aes5RefusalReason = 29;

/// Bytes of `aes5_last_refusal_t::text`, its terminating NUL included.
pub const AES5_REFUSAL_TEXT_BYTES: usize = 160;
