package schema

// Nodes is the number of schema nodes the learner holds: its memory is
// about Nodes × NodeBytes at most (the analyzer budgets its learners with
// it).
func (l *Learner) Nodes() int { return l.nodes }

// NodeBytes bounds the memory of one schema node with its bookkeeping
// (property name, enum candidates and examples at their caps), as
// documented for Config.MaxNodes.
const NodeBytes = 512
