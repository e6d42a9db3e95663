//! The conductor worker a task holds, given back while the task only waits. A
//! conductor bounds its concurrent work by a pool of worker slots; the work runs
//! in [`holding`], and a driver that waits (a BMC reaching a power state, an agent
//! powering its machine off, the pause before a retry) waits through [`pause`] or
//! [`idle`], which return the slot for the wait and take one again after. So the
//! pool bounds the work under way, not the machines being waited for: a rack of
//! machines powering off does not keep the next ones from being worked on.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    static SLOT: Arc<Slot>;
}

/// The pool a task's slot comes from, and the slot while the task holds it.
struct Slot {
    workers: Arc<Semaphore>,
    held: Mutex<Option<OwnedSemaphorePermit>>,
}

/// Runs `work` holding `permit`, a slot of `workers`; the slot goes back when the
/// work ends.
pub async fn holding<F: Future>(
    workers: Arc<Semaphore>,
    permit: OwnedSemaphorePermit,
    work: F,
) -> F::Output {
    let slot = Arc::new(Slot {
        workers,
        held: Mutex::new(Some(permit)),
    });
    SLOT.scope(slot, work).await
}

/// Sleeps `duration` without holding a worker slot.
pub async fn pause(duration: Duration) {
    idle(tokio::time::sleep(duration)).await
}

/// Awaits `wait` without holding the task's worker slot (if it holds one): the slot
/// goes back to the pool for the wait, and the task takes one again after it,
/// waiting its turn when every slot is busy.
pub async fn idle<F: Future>(wait: F) -> F::Output {
    let Ok(slot) = SLOT.try_with(Arc::clone) else {
        return wait.await;
    };
    let had = take(&slot).is_some();
    let out = wait.await;
    if had {
        if let Ok(permit) = slot.workers.clone().acquire_owned().await {
            *slot.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(permit);
        }
    }
    out
}

fn take(slot: &Slot) -> Option<OwnedSemaphorePermit> {
    slot.held
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_task_gives_its_slot_back_and_takes_one_after() {
        let workers = Arc::new(Semaphore::new(1));
        let permit = workers.clone().try_acquire_owned().unwrap();
        let (waiting_tx, waiting_rx) = tokio::sync::oneshot::channel();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let pool = workers.clone();
        let task = tokio::spawn(holding(workers.clone(), permit, async move {
            idle(async move {
                waiting_tx.send(()).unwrap();
                go_rx.await.unwrap();
            })
            .await;
            // Back at work: the slot is held again.
            pool.available_permits()
        }));
        waiting_rx.await.unwrap();
        // While it waits, another piece of work gets the only slot.
        let other = workers
            .clone()
            .try_acquire_owned()
            .expect("the slot is free");
        go_tx.send(()).unwrap();
        tokio::task::yield_now().await;
        assert!(!task.is_finished(), "it waits for a slot to be free again");
        drop(other);
        assert_eq!(task.await.unwrap(), 0);
        assert_eq!(
            workers.available_permits(),
            1,
            "the slot is back after the work"
        );
    }

    #[tokio::test]
    async fn outside_a_worker_waiting_is_just_waiting() {
        assert_eq!(idle(async { 7 }).await, 7);
        pause(Duration::from_millis(1)).await;
    }
}
