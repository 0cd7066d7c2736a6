package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apitap/apitap/analyze"
	"github.com/apitap/apitap/analyze/openapi"
	"github.com/apitap/apitap/analyze/pathtmpl"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// analysisConfig is the analyze stage's part of the configuration: the
// analyzer's settings and what to do with the inventory at the end.
type analysisConfig struct {
	// Enabled is false with --analyze=false: transactions only.
	Enabled  bool
	Analyzer analyze.Config
	// Pins are the templates of --template and the config file's
	// "template" list: "/path/{id}" for every host, or "HOST/path/{id}".
	Pins []string
	// Spec is the --spec document, loaded (nil without --spec).
	Spec     *openapi3.T
	SpecPath string

	Inventory      string // --inventory JSON path ("-": stdout)
	OpenAPI        string // --openapi path ("-": stdout, YAML)
	OpenAPIPerHost string // --openapi-per-host directory
	OpenAPIOptions openapi.Options
	Table          bool // print the inventory table on stdout
}

// addAnalysisFlags declares the analyze stage's settings (shared by analyze
// and sensor).
func addAnalysisFlags(fs *pflag.FlagSet) {
	fs.Bool("analyze", true, "attribute transactions to endpoints and learn the inventory and schemas (false: transactions only)")
	fs.String("path-templates", "learned", "path templating: learned (typed segments and evidence make parameters) or literal (every distinct path is an endpoint)")
	fs.StringSlice("template", nil, `pin a path template, "/users/{userId}" for every host or "api.example.com/users/{userId}" (repeatable; config file key "template")`)
	fs.Int("max-endpoints", 0, "endpoints tracked per worker; calls of further endpoints are counted, not attributed (0: 10000)")
	fs.Int("max-templates-per-host", 0, "path templates learned per host before new paths fold into their longest known prefix (0: 2000)")
	fs.String("inventory", "", `write the endpoint inventory as JSON to this file ("-" for stdout)`)
	fs.String("openapi", "", `write the inferred OpenAPI document to this file: YAML, or JSON for a .json name ("-": YAML on stdout)`)
	fs.String("openapi-version", "3.0", "OpenAPI version of the inferred document: 3.0 (3.0.3) or 3.1 (3.1.0)")
	fs.String("openapi-per-host", "", "write one OpenAPI document per host into this directory (HOST.yaml)")
	fs.String("spec", "", "a published OpenAPI document (YAML or JSON): its templates are used up front, and what is seen is compared with it (shadow, zombie, drift)")
}

// analysisConfigFrom reads the analyze stage's settings. Errors name the
// setting.
func analysisConfigFrom(v *viper.Viper) (analysisConfig, error) {
	cfg := analysisConfig{
		Enabled:        v.GetBool("analyze"),
		Pins:           v.GetStringSlice("template"),
		SpecPath:       v.GetString("spec"),
		Inventory:      v.GetString("inventory"),
		OpenAPI:        v.GetString("openapi"),
		OpenAPIPerHost: v.GetString("openapi-per-host"),
	}
	var errs []string
	switch m := v.GetString("path-templates"); m {
	case "learned":
	case "literal":
		cfg.Analyzer.Templates.Literal = true
	default:
		errs = append(errs, fmt.Sprintf("--path-templates: %q is not one of learned, literal", m))
	}
	cfg.Analyzer.MaxEndpoints = v.GetInt("max-endpoints")
	if cfg.Analyzer.MaxEndpoints < 0 {
		errs = append(errs, "--max-endpoints: must not be negative")
	}
	cfg.Analyzer.Templates.MaxTemplates = v.GetInt("max-templates-per-host")
	if cfg.Analyzer.Templates.MaxTemplates < 0 {
		errs = append(errs, "--max-templates-per-host: must not be negative")
	}
	switch ver := v.GetString("openapi-version"); ver {
	case "3.0", "3.0.3":
		cfg.OpenAPIOptions.Version = "3.0.3"
	case "3.1", "3.1.0":
		cfg.OpenAPIOptions.Version = "3.1.0"
	default:
		errs = append(errs, fmt.Sprintf("--openapi-version: %q is not one of 3.0, 3.1", ver))
	}
	for _, p := range cfg.Pins {
		if _, path := splitPin(p); !strings.HasPrefix(path, "/") {
			errs = append(errs, fmt.Sprintf("--template: %q is not a path template (\"/users/{userId}\" or \"HOST/users/{userId}\")", p))
		}
	}
	if !cfg.Enabled && (cfg.Inventory != "" || cfg.OpenAPI != "" || cfg.OpenAPIPerHost != "" || cfg.SpecPath != "") {
		errs = append(errs, "--analyze=false: --inventory, --openapi, --openapi-per-host and --spec need the analysis")
	}
	if len(errs) > 0 {
		return cfg, usageError{fmt.Errorf("invalid settings: %s", strings.Join(errs, "; "))}
	}
	if cfg.SpecPath != "" {
		doc, err := openapi.Load(cfg.SpecPath)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--spec: %w", err)}
		}
		cfg.Spec = doc
	}
	return cfg, nil
}

// splitPin splits "HOST/path" into its host and path; "/path" has no host.
func splitPin(p string) (host, path string) {
	if strings.HasPrefix(p, "/") {
		return "", p
	}
	host, rest, ok := strings.Cut(p, "/")
	if !ok {
		return p, ""
	}
	return strings.ToLower(host), "/" + rest
}

// newAnalyzer builds the analyzer with the pinned and spec templates.
func newAnalyzer(cfg analysisConfig, reg prometheus.Registerer) (*analyze.Analyzer, error) {
	a, err := analyze.New(cfg.Analyzer, reg)
	if err != nil {
		return nil, usageError{err}
	}
	for _, p := range cfg.Pins {
		host, path := splitPin(p)
		if err := a.Pin(host, pathtmpl.Pinned, path); err != nil {
			return nil, usageError{fmt.Errorf("--template: %w", err)}
		}
	}
	if cfg.Spec != nil {
		// A published spec describes the API wherever it is served: its
		// templates apply to every host (its servers often name a
		// development host).
		var templates []string
		for _, op := range openapi.Templates(cfg.Spec) {
			if !slices.Contains(templates, op.Template) {
				templates = append(templates, op.Template)
			}
		}
		if err := a.Pin("", pathtmpl.Spec, templates...); err != nil {
			return nil, usageError{fmt.Errorf("--spec %s: %w", cfg.SpecPath, err)}
		}
	}
	return a, nil
}

// writeAnalysis writes what the run learned: the table on stdout, the
// inventory JSON, the OpenAPI documents and the comparison with --spec.
func writeAnalysis(cfg analysisConfig, inv *analyze.Inventory, stdout io.Writer, logger *slog.Logger) error {
	var errs []error
	if cfg.Table {
		if err := inv.WriteTable(stdout, 0); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Inventory != "" {
		errs = append(errs, writeOutput(cfg.Inventory, stdout, "--inventory", inv.WriteJSON))
	}
	var doc *openapi3.T
	if cfg.OpenAPI != "" || cfg.Spec != nil {
		var err error
		doc, err = openapi.Build(inv, cfg.OpenAPIOptions)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("building the OpenAPI document: %w", err))...)
		}
	}
	if cfg.OpenAPI != "" {
		format := "yaml"
		if strings.EqualFold(filepath.Ext(cfg.OpenAPI), ".json") {
			format = "json"
		}
		errs = append(errs, writeOutput(cfg.OpenAPI, stdout, "--openapi", func(w io.Writer) error {
			b, err := openapi.Marshal(doc, format)
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		}))
	}
	if cfg.OpenAPIPerHost != "" {
		errs = append(errs, writePerHost(cfg, inv))
	}
	if cfg.Spec != nil {
		rep := openapi.Diff(cfg.Spec, doc)
		fmt.Fprintf(stdout, "\nCompared with %s:\n", cfg.SpecPath)
		if err := rep.WriteText(stdout); err != nil {
			errs = append(errs, err)
		}
	}
	if inv.Merged > 0 {
		logger.Warn("calls of new endpoints were not attributed: the endpoint table was full (raise --max-endpoints)",
			"component", "analyze", "calls", inv.Merged, "metric", "apitap_analyze_endpoint_overflow_total")
	}
	return errors.Join(errs...)
}

func writePerHost(cfg analysisConfig, inv *analyze.Inventory) error {
	docs, err := openapi.BuildPerHost(inv, cfg.OpenAPIOptions)
	if err != nil {
		return fmt.Errorf("--openapi-per-host: %w", err)
	}
	if err := os.MkdirAll(cfg.OpenAPIPerHost, 0o755); err != nil {
		return fmt.Errorf("--openapi-per-host: %w", err)
	}
	hosts := make([]string, 0, len(docs))
	for h := range docs {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		b, err := openapi.Marshal(docs[h], "yaml")
		if err != nil {
			return fmt.Errorf("--openapi-per-host: %s: %w", h, err)
		}
		name := filepath.Join(cfg.OpenAPIPerHost, openapi.HostFileName(h)+".yaml")
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return fmt.Errorf("--openapi-per-host: %w", err)
		}
	}
	return nil
}

// writeOutput writes to path ("-": stdout) with write. Errors name the flag.
func writeOutput(path string, stdout io.Writer, flag string, write func(io.Writer) error) error {
	if path == "-" {
		if err := write(stdout); err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", flag, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}
