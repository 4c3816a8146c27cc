package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// plotRun draws a run into path (.svg or .png): on the left the orders
// each node held over time, on the right the bytes each node read.
func plotRun(path string, res *simResult) error {
	held := plot.New()
	held.Title.Text = fmt.Sprintf("orders held (%d nodes, %s, rtt %v)", len(res.nodes), formatBandwidth(res.cfg.bandwidth), res.cfg.rtt)
	held.X.Label.Text = "seconds"
	held.Y.Label.Text = "orders"
	held.Y.Min, held.Y.Max = 0, float64(res.union)*1.05
	for _, n := range res.nodes {
		n.mu.Lock()
		xys := make(plotter.XYs, 0, len(n.samples))
		for _, s := range n.samples {
			xys = append(xys, plotter.XY{X: s.at.Seconds(), Y: float64(s.held)})
		}
		n.mu.Unlock()
		if len(xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(n.i)
		held.Add(line)
	}
	union, err := plotter.NewLine(plotter.XYs{{X: 0, Y: float64(res.union)}, {X: res.elapsed.Seconds(), Y: float64(res.union)}})
	if err != nil {
		return err
	}
	union.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	held.Add(union)
	held.Legend.Add("all orders", union)
	held.Legend.Top, held.Legend.Left = false, false

	in := plot.New()
	in.Title.Text = "bytes in per node (its link)"
	in.X.Label.Text = "node"
	in.Y.Label.Text = "MB"
	values := make(plotter.Values, len(res.nodes))
	names := make([]string, len(res.nodes))
	for i, n := range res.nodes {
		values[i] = float64(n.link.RxBytes) / 1e6
		names[i] = fmt.Sprint(n.i)
	}
	bars, err := plotter.NewBarChart(values, vg.Points(12))
	if err != nil {
		return err
	}
	bars.Color = plotutil.Color(0)
	in.Add(bars)
	in.NominalX(names...)

	const width, height = 11 * vg.Inch, 4.5 * vg.Inch
	var canvas interface {
		vg.CanvasSizer
		io.WriterTo
	}
	if strings.HasSuffix(path, ".svg") {
		canvas = vgsvg.New(width, height)
	} else {
		canvas = vgimg.PngCanvas{Canvas: vgimg.New(width, height)}
	}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{{held, in}}, tiles, draw.New(canvas))
	held.Draw(canvases[0][0])
	in.Draw(canvases[0][1])

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
