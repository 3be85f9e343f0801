//! Connection slots per IP address, taken at accept.
//!
//! Every TCP connection holds one slot from accept until its socket is
//! closed, whether it stayed plain HTTP or became a WebSocket, so one
//! address cannot hold more than `server.connections_per_ip` sockets.

use std::{collections::HashMap, net::IpAddr, sync::Arc};

use parking_lot::Mutex;

/// The slots in use, per address.
#[derive(Debug)]
pub(crate) struct PerIp {
    limit: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

impl PerIp {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self { limit, held: Mutex::new(HashMap::new()) })
    }

    /// A slot for `ip`, or `None` when it already holds the limit.
    pub(crate) fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut held = self.held.lock();
        let count = held.entry(ip).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(IpSlot { owner: Arc::clone(self), ip })
    }

    #[cfg(test)]
    fn held(&self, ip: IpAddr) -> usize {
        self.held.lock().get(&ip).copied().unwrap_or(0)
    }
}

/// One connection's slot; given back on drop.
#[derive(Debug)]
pub(crate) struct IpSlot {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut held = self.owner.held.lock();
        if let Some(count) = held.get_mut(&self.ip) {
            *count -= 1;
            // Forgotten at zero, so the map holds only connected addresses.
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_limit_and_slots_come_back_on_drop() {
        let per_ip = PerIp::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = per_ip.acquire(a).unwrap();
        let _second = per_ip.acquire(a).unwrap();
        assert!(per_ip.acquire(a).is_none(), "third from the same address");
        assert!(per_ip.acquire(b).is_some(), "other addresses are not affected");
        drop(first);
        assert!(per_ip.acquire(a).is_some(), "a closed connection frees its slot");
        drop(_second);
        assert_eq!(per_ip.held(b), 0);
    }
}
