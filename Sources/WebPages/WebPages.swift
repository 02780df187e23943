// The web page for PIs and operators: server-rendered HTML over the service's state (the stream,
// the filters and their playground, dead letters), served on the same HTTP server as `/metrics`.
