package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksguard/ksguard/test/harness"
)

// profile runs ksguard serve with --pprof-bind-address behind the API
// server, writes through it for cfg.profileFor while its CPU profile runs
// (the webhooks, the restart controller and the audit, as in a turn), then
// takes a heap profile, and writes both to cfg.profileDir.
func (r *runner) profile(ctx context.Context) (err error) {
	if err := os.MkdirAll(r.cfg.profileDir, 0o755); err != nil {
		return fmt.Errorf("-profile: %w", err)
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	s, err := r.startKsguardBin(ctx, r.bin, "--pprof-bind-address", addr)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := s.stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stopping: %w", stopErr)
		}
	}()
	if err := r.install(ctx, s); err != nil {
		return err
	}
	if err := r.waitSwitched(ctx, s); err != nil {
		return err
	}
	cpuFile := filepath.Join(r.cfg.profileDir, "ksguard-cpu.pprof")
	done := make(chan error, 1)
	go func() {
		done <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(r.cfg.profileFor.Seconds())), cpuFile, r.cfg.profileFor+time.Minute)
	}()
	writes := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				return err
			}
			heapFile := filepath.Join(r.cfg.profileDir, "ksguard-heap.pprof")
			if err := fetchProfile(ctx, "http://"+addr+"/debug/pprof/heap", heapFile, time.Minute); err != nil {
				return err
			}
			fmt.Fprintf(r.out, "\nProfiles of ksguard serve over %d writes through the API server: %s, %s (go tool pprof -top -cum FILE)\n", writes, cpuFile, heapFile)
			return r.printSources(s)
		default:
		}
		if _, err := r.write(ctx); err != nil {
			return err
		}
		writes++
	}
}

// fetchProfile saves what url answers to file.
func fetchProfile(ctx context.Context, url, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("saving %s: %w", file, err)
	}
	return f.Close()
}

// printSources prints how ksguard had its decisions (made, hit, joined) by
// webhook, from its metrics.
func (r *runner) printSources(s *server) error {
	resp, err := s.client().Get(s.metricsURL)
	if err != nil {
		return fmt.Errorf("scraping %s: %w", s.metricsURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("scraping %s: %w", s.metricsURL, err)
	}
	fmt.Fprintln(r.out, "How its decisions were had (ksguard_decision_sources_total):")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "ksguard_decision_sources_total{") {
			fmt.Fprintln(r.out, "  "+line)
		}
	}
	return nil
}
