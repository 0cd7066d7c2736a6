package reassembly

// TransactionSink receives completed transactions. It is called from the
// worker goroutine that produced the transaction; the sink owns *t from then
// on.
type TransactionSink interface {
	HandleTransaction(t *Transaction)
}
