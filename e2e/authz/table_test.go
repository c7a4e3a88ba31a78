package authz_test

// Common rows. Residents and anonymous callers hold no scope of staff
// data; scoped staff (cadre, sub-district) hold scope A only; finance and
// admin hold the district.
const (
	public     = "anon:ok res:ok/ok cadre:ok/ok sub:ok/ok fin:ok/ok admin:ok/ok"
	signedIn   = "anon:401 res:ok/ok cadre:ok/ok sub:ok/ok fin:ok/ok admin:ok/ok"
	staffRead  = "anon:401 res:403/403 cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"
	adminOnly  = "anon:401 res:403/403 cadre:403/403 sub:403/403 fin:403/403 admin:ok/ok"
	financeRun = "anon:401 res:403/403 cadre:403/403 sub:403/403 fin:ok/ok admin:ok/ok"
	// budgetRead is the ledger and planning: sub-district staff and up.
	budgetRead = "anon:401 res:403/403 cadre:403/403 sub:ok/deny fin:ok/ok admin:ok/ok"
	// cadreApp is what only the cadre app's users (cadre, sub-district) get.
	cadreApp = "anon:401 res:403/403 cadre:ok/ok sub:ok/ok fin:403/403 admin:403/403"
	// triage is the sub-district's (and admin's) handling of a new case.
	triage = "anon:401 res:403/403 cadre:403/403 sub:ok/deny fin:403/403 admin:ok/ok"
	// cadreStep is the on-site work only the community's cadre does, on a
	// case assigned to it (assessed and started for completion).
	cadreStep = "anon:401 res:403/403 cadre:ok/deny sub:403/403 fin:403/403 admin:403/403"
	// verdict is the resident's, or the cadre's recording it for them, on a
	// completed case.
	verdict = "anon:401 res:ok/deny cadre:ok/deny sub:403/403 fin:403/403 admin:403/403"
)

// Multipart bodies: a file that is not an image or a workbook, so allowed
// cells stop at validation (415 for photos) and nothing is stored.
var (
	formType       = "multipart/form-data; boundary=matrixboundary"
	photoForm      = "--matrixboundary\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nbefore\r\n" + fileEnd("photo")
	trackPhotoForm = "--matrixboundary\r\nContent-Disposition: form-data; name=\"number\"\r\n\r\n{anonnumber}\r\n" +
		"--matrixboundary\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n" + fileEnd("photo")
	importForm = fileEnd("file")
)

// fileEnd is a multipart file part named name, and the closing boundary.
func fileEnd(name string) string {
	return "--matrixboundary\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"x.bin\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\nnot an image\r\n--matrixboundary--\r\n"
}

// matrix is the authorization matrix, keyed "METHOD /path" as the router
// names the route. A route added without an entry fails TestAuthzMatrix.
var matrix = map[string]entry{
	// Sign-in is for everyone; a caller's token does not change it.
	"POST /api/v1/auth/login":      {target: "/api/v1/auth/login", body: `{"username":"cadre{n}","password":"wrong-password"}`, want: "anon:401 res:401/401 cadre:401/401 sub:401/401 fin:401/401 admin:401/401"},
	"POST /api/v1/auth/refresh":    {target: "/api/v1/auth/refresh", body: `{"refresh_token":"not-a-token"}`, want: "anon:401 res:401/401 cadre:401/401 sub:401/401 fin:401/401 admin:401/401"},
	"POST /api/v1/auth/logout":     {target: "/api/v1/auth/logout", body: `{"refresh_token":"not-a-token"}`, want: public, isolate: true},
	"POST /api/v1/auth/otp":        {target: "/api/v1/auth/otp", body: `{"phone":"{phone}"}`, want: public},
	"POST /api/v1/auth/otp/verify": {target: "/api/v1/auth/otp/verify", body: `{"phone":"{phone}","code":"000000"}`, want: "anon:401 res:401/401 cadre:401/401 sub:401/401 fin:401/401 admin:401/401"},
	"GET /api/v1/me":               {target: "/api/v1/me", want: signedIn},
	"PATCH /api/v1/me":             {target: "/api/v1/me", body: `{"name":"新名字"}`, want: "anon:401 res:ok/ok cadre:403/403 sub:403/403 fin:403/403 admin:403/403"},
	"DELETE /api/v1/me":            {target: "/api/v1/me", want: "anon:401 res:ok/ok cadre:403/403 sub:403/403 fin:403/403 admin:403/403", isolate: true},

	// Accounts and the org structure.
	"POST /api/v1/users":                        {target: "/api/v1/users", body: `{"username":"new{n}","password":"password-new","name":"新人","role":"cadre","scope":"{comm}"}`, want: adminOnly},
	"GET /api/v1/admin/sms":                     {target: "/api/v1/admin/sms", want: adminOnly},
	"GET /api/v1/users":                         {target: "/api/v1/users?sub_district={sub}", want: adminOnly},
	"PATCH /api/v1/users/:id":                   {target: "/api/v1/users/{cadre}", body: `{"name":"改名"}`, want: adminOnly, isolate: true},
	"POST /api/v1/users/:id/password":           {target: "/api/v1/users/{cadre}/password", body: `{"password":"password-changed"}`, want: adminOnly, isolate: true},
	"GET /api/v1/openapi.json":                  {target: "/api/v1/openapi.json", want: public, document: true},
	"GET /api/v1/org":                           {target: "/api/v1/org", want: public},
	"GET /api/v1/map":                           {target: "/api/v1/map", want: public},
	"GET /api/v1/org/locate":                    {target: "/api/v1/org/locate?lat=39.918&lng=116.362", want: public},
	"GET /api/v1/org/communities/:code/staff":   {target: "/api/v1/org/communities/{comm}/staff", want: staffRead},
	"GET /api/v1/org/sub-districts/:code/staff": {target: "/api/v1/org/sub-districts/{sub}/staff", want: budgetRead},

	// Cases: filing is open to anyone; reading is scoped.
	"POST /api/v1/cases": {target: "/api/v1/cases", body: `{"area":"CG","title":"楼道堆物{n}","description":"楼道堆物需清运","sub_district":"{sub}","community":"{comm}","address":"1号院","households":2}`,
		want: "anon:ok res:ok/ok cadre:ok/deny sub:ok/deny fin:403/403 admin:403/403"},
	"GET /api/v1/cases":                {target: "/api/v1/cases?community={comm}", also: []string{"/api/v1/cases", "/api/v1/cases?sort=deadline"}, want: "anon:401 res:ok/ok cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"},
	"GET /api/v1/cases/labels":         {target: "/api/v1/cases/labels", want: public},
	"GET /api/v1/cases/track":          {target: "/api/v1/cases/track?number={anonnumber}&token={token}", want: public, tracks: true},
	"GET /api/v1/cases/similar":        {target: "/api/v1/cases/similar?community={comm}&area=CG&text=%E5%A0%86%E7%89%A9", also: []string{"/api/v1/cases/similar?area=CG&text=%E5%A0%86%E7%89%A9"}, want: "anon:401 res:ok/ok cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"},
	"GET /api/v1/cases/export":         {target: "/api/v1/cases/export?format=csv&community={comm}", want: "anon:401 res:403/403 cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"},
	"POST /api/v1/cases/bulk/:action":  {target: "/api/v1/cases/bulk/accept", body: `{"items":[{"id":"{case}","version":{ver}}]}`, want: "anon:401 res:403/403 cadre:403/403 sub:ok/ok fin:403/403 admin:ok/ok"},
	"GET /api/v1/cases/number/:number": {target: "/api/v1/cases/number/{number}", want: "anon:401 res:403/403 cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"},
	"GET /api/v1/cases/:id":            {target: "/api/v1/cases/{case}", want: "anon:401 res:ok/deny cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"},
	"POST /api/v1/cases/:id/photos":    {target: "/api/v1/cases/{case}/photos", body: photoForm, ctype: formType, want: "anon:401 res:415/deny cadre:415/deny sub:415/deny fin:403/403 admin:415/415"},
	"POST /api/v1/cases/:id/accept":    {target: "/api/v1/cases/{case}/accept", body: `{"version":{ver}}`, want: triage},
	"POST /api/v1/cases/:id/reject":    {target: "/api/v1/cases/{case}/reject", body: `{"version":{ver},"reason":"不属于受理范围"}`, want: triage},
	"POST /api/v1/cases/:id/merge":     {target: "/api/v1/cases/{case}/merge", body: `{"version":{ver},"into":"{pub}"}`, want: triage},
	"POST /api/v1/cases/:id/assign":    {target: "/api/v1/cases/{case}/assign", body: `{"version":{ver},"cadre_id":"{cadre}"}`, want: "anon:401 res:403/403 cadre:403/403 sub:409/deny fin:403/403 admin:409/409"},
	"POST /api/v1/cases/:id/assess":    {target: "/api/v1/cases/{assigned}/assess", body: `{"version":{assignedver},"estimate_fen":100000,"households":3,"risk":1}`, want: cadreStep},
	"POST /api/v1/cases/:id/start":     {target: "/api/v1/cases/{assessed}/start", body: `{"version":{assessedver}}`, want: cadreStep},
	"POST /api/v1/cases/:id/complete":  {target: "/api/v1/cases/{started}/complete", body: `{"version":{startedver},"actual_cost_fen":100000}`, want: cadreStep},
	"POST /api/v1/cases/:id/verdict":   {target: "/api/v1/cases/{completed}/verdict", body: `{"version":{completedver},"verdict":"satisfied"}`, want: verdict},
	"POST /api/v1/cases/:id/cancel":    {target: "/api/v1/cases/{case}/cancel", body: `{"version":{ver},"reason":"不需要了"}`, want: triage},
	"POST /api/v1/cases/:id/cosign":    {target: "/api/v1/cases/{case}/cosign", body: `{}`, want: "anon:401 res:409/deny cadre:403/403 sub:403/403 fin:403/403 admin:403/403"},
	"GET /api/v1/media/*":              {target: "/api/v1/media/{case}/nosuch.jpg", want: "anon:deny res:deny/deny cadre:deny/deny sub:deny/deny fin:deny/deny admin:deny/deny"},

	// Residents' own pages and the public site.
	"GET /api/v1/me/cases":              {target: "/api/v1/me/cases", want: "anon:401 res:ok/ok cadre:403/403 sub:403/403 fin:403/403 admin:403/403"},
	"POST /api/v1/me/cases/:id/verdict": {target: "/api/v1/me/cases/{completed}/verdict", body: `{"version":{completedver},"verdict":"satisfied"}`, want: verdict},
	"POST /api/v1/track/photos":         {target: "/api/v1/track/photos", body: trackPhotoForm, ctype: formType, want: "anon:415 res:415/415 cadre:415/415 sub:415/415 fin:415/415 admin:415/415", tracks: true},
	"POST /api/v1/track/verdict":        {target: "/api/v1/track/verdict", body: `{"number":"{anonnumber}","token":"{token}","version":{anonver},"verdict":"satisfied"}`, want: "anon:409 res:409/409 cadre:409/409 sub:409/409 fin:409/409 admin:409/409", tracks: true},
	"GET /api/v1/public/similar":        {target: "/api/v1/public/similar?community={comm}&area=CG&text=%E5%A0%86%E7%89%A9", want: public, public: true},
	"GET /api/v1/public/board":          {target: "/api/v1/public/board?sub_district={sub}", also: []string{"/api/v1/public/board"}, want: public, public: true},
	"GET /api/v1/public/cases":          {target: "/api/v1/public/cases?community={comm}", want: public, public: true},
	"GET /api/v1/public/cases/:id":      {target: "/api/v1/public/cases/{pub}", want: public, public: true},
	"GET /api/v1/qr":                    {target: "/api/v1/qr?text=https%3A%2F%2Fexample.org%2Ft%2F{n}", want: public},

	// Catalog and budget.
	"GET /api/v1/catalog":                       {target: "/api/v1/catalog", want: public},
	"GET /api/v1/budget/labels":                 {target: "/api/v1/budget/labels", want: public},
	"GET /api/v1/catalog/suggest":               {target: "/api/v1/catalog/suggest?case_id={case}", want: staffRead},
	"GET /api/v1/budget/lines":                  {target: "/api/v1/budget/lines?sub_district={sub}", also: []string{"/api/v1/budget/lines"}, want: budgetRead},
	"POST /api/v1/budget/lines":                 {target: "/api/v1/budget/lines", body: `{"fiscal_year":{year},"sub_district":"{sub}","item_code":"SQ-05-04","project_name":"新项目{n}","approved_fen":100000}`, want: "anon:401 res:403/403 cadre:403/403 sub:ok/deny fin:ok/ok admin:ok/ok"},
	"GET /api/v1/budget/lines/:id":              {target: "/api/v1/budget/lines/{line}", want: budgetRead},
	"POST /api/v1/budget/lines/:id/adjustments": {target: "/api/v1/budget/lines/{line}/adjustments", body: `{"kind":"increase","amount_fen":100,"reason":"调增"}`, want: "anon:401 res:403/403 cadre:403/403 sub:403/403 fin:ok/ok admin:ok/ok"},
	"POST /api/v1/budget/lines/:id/review":      {target: "/api/v1/budget/lines/{line}/review", body: `{"stage":"before","note":"评审通过"}`, want: budgetRead},
	"POST /api/v1/budget/lines/:id/void":        {target: "/api/v1/budget/lines/{line}/void", body: `{"version":{linever}}`, want: budgetRead},
	"POST /api/v1/budget/import":                {target: "/api/v1/budget/import", body: importForm, ctype: formType, want: "anon:401 res:403/403 cadre:403/403 sub:403/403 fin:400/400 admin:400/400"},
	"GET /api/v1/budget/export":                 {target: "/api/v1/budget/export?year={year}&sub_district={sub}", also: []string{"/api/v1/budget/export?year={year}"}, want: budgetRead},
	"GET /api/v1/budget/audit":                  {target: "/api/v1/budget/audit?sub_district={sub}", also: []string{"/api/v1/budget/audit"}, want: budgetRead},
	"GET /api/v1/budget/adjustments":            {target: "/api/v1/budget/adjustments?sub_district={sub}", also: []string{"/api/v1/budget/adjustments"}, want: budgetRead},
	"POST /api/v1/cases/:id/catalog-item":       {target: "/api/v1/cases/{case}/catalog-item", body: `{"version":{ver},"item_code":"SQ-05-04"}`, want: triage},
	"POST /api/v1/cases/:id/budget-link":        {target: "/api/v1/cases/{classified}/budget-link", body: `{"line_id":"{line}","estimate_fen":10000}`, want: "anon:401 res:403/403 cadre:403/403 sub:ok/deny fin:ok/ok admin:ok/ok"},
	"PATCH /api/v1/cases/:id/budget-link":       {target: "/api/v1/cases/{linked}/budget-link", body: `{"estimate_fen":20000}`, want: "anon:401 res:403/403 cadre:403/403 sub:ok/deny fin:ok/ok admin:ok/ok"},
	// Also a case without a link: unlinking it is a no-op (204) once the
	// case is readable; the linker's role is checked only when a link exists.
	"DELETE /api/v1/cases/:id/budget-link": {target: "/api/v1/cases/{linked}/budget-link", also: []string{"/api/v1/cases/{case}/budget-link"}, want: "anon:401 res:403/403 cadre:403/403 sub:ok/deny fin:ok/ok admin:ok/ok"},

	// Reports and allocation.
	"GET /api/v1/reports/execution":              {target: "/api/v1/reports/execution?year={year}&sub_district={sub}", also: []string{"/api/v1/reports/execution?year={year}"}, want: budgetRead},
	"GET /api/v1/reports/adjustments":            {target: "/api/v1/reports/adjustments?year={year}&sub_district={sub}", also: []string{"/api/v1/reports/adjustments?year={year}"}, want: budgetRead},
	"GET /api/v1/reports/demand":                 {target: "/api/v1/reports/demand?year={year}&sub_district={sub}", also: []string{"/api/v1/reports/demand?year={year}"}, want: budgetRead},
	"GET /api/v1/reports/consistency":            {target: "/api/v1/reports/consistency?year={year}", want: financeRun},
	"GET /api/v1/reports/completion":             {target: "/api/v1/reports/completion?sub_district={sub}", also: []string{"/api/v1/reports/completion"}, want: budgetRead},
	"GET /api/v1/reports/rates":                  {target: "/api/v1/reports/rates?sub_district={sub}", also: []string{"/api/v1/reports/rates"}, want: staffRead},
	"GET /api/v1/allocation/weights/:year":       {target: "/api/v1/allocation/weights/{year}", want: "anon:401 res:403/403 cadre:ok/ok sub:ok/ok fin:ok/ok admin:ok/ok"},
	"PUT /api/v1/allocation/weights/:year":       {target: "/api/v1/allocation/weights/{year}", body: `{"sanbao":30000,"safety_per_level":10000,"households":3000,"co_signers":2000,"elderly":1000,"disabled":1500,"vulnerable_cap":10,"waiting_per_day":100,"waiting_cap_days":180,"repeat_complaints":4000,"cost_per_household":20000,"cost_reference_fen":500000}`, want: financeRun},
	"GET /api/v1/allocation/priorities":          {target: "/api/v1/allocation/priorities?sub_district={sub}", also: []string{"/api/v1/allocation/priorities"}, want: budgetRead},
	"GET /api/v1/allocation/shortfalls":          {target: "/api/v1/allocation/shortfalls?sub_district={sub}", also: []string{"/api/v1/allocation/shortfalls"}, want: budgetRead},
	"POST /api/v1/allocation/runs":               {target: "/api/v1/allocation/runs", body: `{"run_id":"{uuid}","fiscal_year":{year},"sub_district":"{sub}","dry_run":true}`, want: "anon:401 res:403/403 cadre:403/403 sub:ok/deny fin:ok/ok admin:ok/ok"},
	"GET /api/v1/allocation/runs":                {target: "/api/v1/allocation/runs?sub_district={sub}", also: []string{"/api/v1/allocation/runs"}, want: budgetRead},
	"GET /api/v1/allocation/runs/:id":            {target: "/api/v1/allocation/runs/{uuid}", want: "anon:401 res:403/403 cadre:deny/deny sub:deny/deny fin:404/404 admin:404/404"},
	"GET /api/v1/allocation/factor":              {target: "/api/v1/allocation/factor", want: financeRun},
	"POST /api/v1/allocation/runs/:id/transfers": {target: "/api/v1/allocation/runs/{uuid}/transfers", body: `{"line_versions":{"x":1}}`, want: "anon:401 res:403/403 cadre:403/403 sub:403/403 fin:404/404 admin:404/404"},
	"POST /api/v1/allocation/factor":             {target: "/api/v1/allocation/factor", body: `{"fiscal_year":{year}}`, want: financeRun},

	// The cadre app.
	"GET /mobile/v1/openapi.json":  {target: "/mobile/v1/openapi.json", want: public, document: true},
	"POST /mobile/v1/auth/login":   {target: "/mobile/v1/auth/login", body: `{"username":"cadre{n}","password":"wrong-password","device":"matrix"}`, want: "anon:401 res:401/401 cadre:401/401 sub:401/401 fin:401/401 admin:401/401"},
	"POST /mobile/v1/auth/refresh": {target: "/mobile/v1/auth/refresh", body: `{"refresh_token":"not-a-token"}`, want: "anon:401 res:401/401 cadre:401/401 sub:401/401 fin:401/401 admin:401/401"},
	"POST /mobile/v1/auth/logout":  {target: "/mobile/v1/auth/logout", body: `{"refresh_token":"not-a-token"}`, want: public, isolate: true},
	"GET /mobile/v1/me":            {target: "/mobile/v1/me", want: cadreApp},
	"GET /mobile/v1/sync":          {target: "/mobile/v1/sync", want: cadreApp},
	"GET /mobile/v1/catalog":       {target: "/mobile/v1/catalog", want: signedIn},
	"GET /mobile/v1/cases":         {target: "/mobile/v1/cases?number={number}", also: []string{"/mobile/v1/cases"}, want: cadreApp},
	// The cadre app's search answers residents too (their view is public);
	"GET /mobile/v1/similar": {target: "/mobile/v1/similar?area=CG&text=%E5%A0%86%E7%89%A9", want: signedIn},
	// A resident's own case is readable through the cadre app's API too.
	"GET /mobile/v1/cases/:id": {target: "/mobile/v1/cases/{case}", want: "anon:401 res:ok/deny cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"},
	"PUT /mobile/v1/cases/:id": {target: "/mobile/v1/cases/{uuid}", body: `{"area":"CG","title":"楼道堆物{n}","description":"楼道堆物需清运","community":"{comm}","address":"1号院","households":2}`,
		want: "anon:401 res:403/403 cadre:ok/deny sub:ok/deny fin:403/403 admin:403/403"},
	"GET /mobile/v1/cases/:id/suggestions":      {target: "/mobile/v1/cases/{case}/suggestions", want: "anon:401 res:403/403 cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok"},
	"POST /mobile/v1/cases/:id/actions/:action": {target: "/mobile/v1/cases/{case}/actions/accept", body: `{"version":{ver}}`, want: triage},
	// The local photo store takes no direct uploads: allowed cells get 409.
	"POST /mobile/v1/cases/:id/photos/uploads":                  {target: "/mobile/v1/cases/{case}/photos/uploads", body: `{"tag":"before","content_type":"image/jpeg"}`, want: "anon:401 res:409/deny cadre:409/deny sub:409/deny fin:403/403 admin:409/409"},
	"POST /mobile/v1/cases/:id/photos/uploads/:upload/complete": {target: "/mobile/v1/cases/{case}/photos/uploads/{uuid}/complete", body: `{}`, want: "anon:401 res:deny/deny cadre:404/deny sub:404/deny fin:deny/deny admin:404/404"},
	"PUT /mobile/v1/cases/:id/photos/:photo":                    {target: "/mobile/v1/cases/{case}/photos/{uuid}?tag=before", body: "not a jpeg", ctype: "image/jpeg", want: "anon:401 res:415/deny cadre:415/deny sub:415/deny fin:403/403 admin:415/415"},
	// The cadre's photo on a case in progress. (A photo id the case does not
	// hold answers 200 with the case to anyone who may read it, finance and
	// the filer included: a retried delete, with no effect.)
	"DELETE /mobile/v1/cases/:id/photos/:photo": {target: "/mobile/v1/cases/{started}/photos/{startedphoto}",
		want: "anon:401 res:403/deny cadre:ok/deny sub:ok/deny fin:403/403 admin:ok/ok"},
	"GET /mobile/v1/notifications": {target: "/mobile/v1/notifications", want: cadreApp},
	// Marking read is open to any signed-in user (it touches only their own).
	"POST /mobile/v1/notifications/read": {target: "/mobile/v1/notifications/read", body: `{"all":true}`, want: signedIn},
}
