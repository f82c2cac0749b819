package dashboard

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/hibiken/asynqmon"
)

// Server is the dashboard's HTTP side. Its embedded Collector gives the
// same data the pages show.
type Server struct {
	*Collector
	mon     *asynqmon.HTTPHandler
	page    *template.Template
	handler http.Handler
}

// New checks cfg and builds the dashboard. It opens asynqmon's Redis
// connections (closed by Close) but contacts nothing. It fails, wrapping
// ErrConfig, when Redis is missing, only one of Auth.User and Auth.Password
// is set, asynqmon's connection cannot be derived, or an Extra pattern
// conflicts with a dashboard route.
func New(cfg Config) (*Server, error) {
	if (cfg.Auth.User == "") != (cfg.Auth.Password == "") {
		return nil, fmt.Errorf("%w: Auth.User and Auth.Password must be set together", ErrConfig)
	}
	if err := cfg.Auth.Check(); err != nil {
		return nil, err
	}
	col, err := NewCollector(cfg)
	if err != nil {
		return nil, err
	}
	mon, err := newMonitor(col.cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{Collector: col, mon: mon, page: pageTemplate}
	if s.handler, err = s.routes(); err != nil {
		return nil, errors.Join(err, mon.Close())
	}
	return s, nil
}

// Handler serves every route of the dashboard.
func (s *Server) Handler() http.Handler { return s.handler }

// Close closes asynqmon's Redis connections; the Redis client of Config is
// the caller's to close.
func (s *Server) Close() error { return s.mon.Close() }

// routes puts the public routes (health probes, Extra) beside one
// authenticated tree for everything else.
func (s *Server) routes() (http.Handler, error) {
	private := http.NewServeMux()
	private.HandleFunc("GET /{$}", s.servePage)
	private.HandleFunc("GET /runs/{id}", s.serveRunPage)
	private.HandleFunc("GET /api/apps", s.serveAPIApps)
	private.HandleFunc("GET /api/runs", s.serveAPIRuns)
	private.HandleFunc("GET /api/runs/{id}", s.serveAPIRun)
	private.HandleFunc("/api/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{"no such API"})
	})
	var mon http.Handler = s.mon
	if !s.cfg.Writable {
		mon = readOnlyGuard(mon)
	}
	private.Handle(asynqRoot+"/", mon)
	metrics := s.cfg.Metrics
	if metrics == nil {
		metrics = http.NotFoundHandler()
	}
	private.Handle("/metrics", metrics)

	public := http.NewServeMux()
	public.HandleFunc("GET /healthz", serveHealthz)
	public.HandleFunc("GET /readyz", s.serveReadyz)
	public.Handle("/", requireAuth(s.cfg.Auth, noStore(private)))
	for pattern, h := range s.cfg.Extra {
		if err := handle(public, pattern, h); err != nil {
			return nil, err
		}
	}
	return public, nil
}

// handle is mux.Handle with an error instead of a panic for a bad or
// conflicting pattern.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: Extra pattern %q: %v", ErrConfig, pattern, p)
		}
	}()
	if h == nil {
		return fmt.Errorf("%w: Extra pattern %q has no handler", ErrConfig, pattern)
	}
	mux.Handle(pattern, h)
	return nil
}

// noStore keeps private pages out of shared caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
