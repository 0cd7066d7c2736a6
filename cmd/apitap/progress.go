package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressSource is a source that knows how far through its input it is.
type progressSource interface {
	Progress() (done, total int64)
}

// progressBar redraws a bar on stderr from a ticker goroutine; the hot path
// never touches it.
type progressBar struct {
	bar  *progressbar.ProgressBar
	quit chan struct{}
	done chan struct{}
}

// startProgress draws the progress of src (bytes read of the total when the
// total is known, a spinner with the byte count otherwise) until stop.
func startProgress(w io.Writer, src any, p *pipeline) *progressBar {
	ps, _ := src.(progressSource)
	total := int64(-1)
	if ps != nil {
		if _, t := ps.Progress(); t > 0 {
			total = t
		}
	}
	pb := &progressBar{
		bar: progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("reading"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30),
		),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go func() {
		defer close(pb.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-pb.quit:
				return
			case <-t.C:
				var done int64
				if ps != nil {
					done, _ = ps.Progress()
				} else {
					done = int64(p.engine.Stats().Bytes)
				}
				pb.bar.Set64(done)
			}
		}
	}()
	return pb
}

// stop removes the bar; it is safe on a nil bar.
func (pb *progressBar) stop() {
	if pb == nil {
		return
	}
	close(pb.quit)
	<-pb.done
	pb.bar.Finish()
	pb.bar.Clear()
}
