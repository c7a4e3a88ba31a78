// Package allocation is the pure allocation engine of budgetlink: it ranks
// residents' needs, funds them from budget lines, distributes a district pool
// across sub-districts by factors (因素法) and computes the 12345 rates
// (响应率, 解决率, 满意率) that feed next year's performance coefficient.
//
// It holds no database and no HTTP: callers (the budgetlink service, the API)
// load the inputs, call these functions and store or render the results. That
// keeps every figure reproducible from its inputs alone, which is what finance
// staff need when they ask "why did this case get money and that one not".
//
// Money is integer fen (int64) and scores are integer milli-points (int64):
// no float appears in the engine, so a run gives the same answer on every machine
// and every total adds up to the fen.
//
// Errors: EINVALID for an input out of range (amounts by minsheng.CheckFen,
// years by CheckYear), naming the field.
package allocation
