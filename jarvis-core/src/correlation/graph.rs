//! A small DAG of names with its transitive closure, for correlation rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Edges point downstream: from a cause to what it explains. Names are
/// interned as node numbers in name order.
#[derive(Clone, Debug, Default)]
pub(super) struct Dag {
    ids: HashMap<String, u32>,
    /// Node → every node it reaches, sorted.
    descendants: Vec<Vec<u32>>,
    /// Node → every node that reaches it, sorted.
    ancestors: Vec<Vec<u32>>,
    /// Node → the longest downstream path below it (0 for nodes that explain nothing).
    depth: Vec<u32>,
}

impl Dag {
    /// Builds the closure, or returns a cycle as `[a, b, …, a]`.
    pub(super) fn build<'a>(
        edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Dag, Vec<String>> {
        let mut children: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (up, down) in edges {
            children.entry(up).or_default().insert(down);
            children.entry(down).or_default();
        }
        let ids: HashMap<&str, u32> = children.keys().zip(0u32..).map(|(&k, i)| (k, i)).collect();
        // Post-order DFS from every node, in name order, so a reported cycle is deterministic.
        let mut order: Vec<&str> = Vec::with_capacity(children.len());
        let mut state: HashMap<&str, bool> = HashMap::new(); // false: on the stack, true: done
        for &start in children.keys() {
            if state.contains_key(start) {
                continue;
            }
            let mut stack: Vec<(&str, Vec<&str>)> =
                vec![(start, children[start].iter().rev().copied().collect())];
            state.insert(start, false);
            while let Some((node, pending)) = stack.last_mut() {
                let node = *node;
                match pending.pop() {
                    Some(next) => match state.get(next) {
                        Some(true) => {}
                        Some(false) => {
                            let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            let mut cycle: Vec<String> =
                                stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                            cycle.push(next.to_string());
                            return Err(cycle);
                        }
                        None => {
                            state.insert(next, false);
                            stack.push((next, children[next].iter().rev().copied().collect()));
                        }
                    },
                    None => {
                        state.insert(node, true);
                        order.push(node);
                        stack.pop();
                    }
                }
            }
        }
        // Children come before parents in `order`.
        let n = children.len();
        let mut descendants: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
        let mut depth = vec![0u32; n];
        for &node in &order {
            let id = ids[node] as usize;
            for &child in &children[node] {
                let c = ids[child] as usize;
                let below = descendants[c].clone();
                descendants[id].insert(c as u32);
                descendants[id].extend(below);
                depth[id] = depth[id].max(depth[c] + 1);
            }
        }
        let mut ancestors: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (up, downs) in descendants.iter().enumerate() {
            for &d in downs {
                ancestors[d as usize].push(up as u32);
            }
        }
        Ok(Dag {
            ids: ids.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            descendants: descendants
                .into_iter()
                .map(|s| s.into_iter().collect())
                .collect(),
            ancestors,
            depth,
        })
    }

    /// The node of a name, when the rules mention it.
    pub(super) fn node(&self, name: &str) -> Option<u32> {
        if self.ids.is_empty() {
            return None;
        }
        self.ids.get(name).copied()
    }

    pub(super) fn len(&self) -> usize {
        self.depth.len()
    }

    /// Whether `up` explains `down`, directly or through others.
    pub(super) fn reaches(&self, up: u32, down: u32) -> bool {
        self.descendants[up as usize].binary_search(&down).is_ok()
    }

    /// Whether a node explains anything.
    pub(super) fn is_upstream(&self, node: u32) -> bool {
        !self.descendants[node as usize].is_empty()
    }

    /// Every node that explains `node`, sorted.
    pub(super) fn ancestors(&self, node: u32) -> &[u32] {
        &self.ancestors[node as usize]
    }

    /// The longest chain below a node: deeper causes have larger depths.
    pub(super) fn depth(&self, node: u32) -> u32 {
        self.depth[node as usize]
    }
}
