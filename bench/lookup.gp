# SPDX-License-Identifier: GPL-2.0-only
# ns per packet for cgfw, a plain LPM trie and an empty program, per rule set:
# against the family's rules (outfile) and against its distinct prefix
# lengths (outfile2, default: outfile with "-lengths" before ".png").
# run.sh calls: gnuplot -e "datafile='D'; outfile='O'; subtitle='S'" lookup.gp
# Columns of D (written by cgfw_bench --dat), one line per set: 1 set name,
# 2 rules, 3 IPv4 rules, 4 IPv6 rules, 5 IPv4 lengths, 6 IPv6 lengths,
# 7 empty v4, 8 empty v6, 9 lpm hit v4, 10 lpm miss v4, 11 lpm hit v6,
# 12 lpm miss v6, 13 cgfw hit v4, 14 cgfw miss v4, 15 cgfw hit v6, 16 cgfw miss v6.
# Against rules, the "1" and hosts:N sets are joined by lines (the size
# sweep); against lengths, every set is a point. Sets other than those are
# named above their LPM trie hit point.
if (!exists("outfile2")) outfile2 = outfile[1:strlen(outfile) - 4] . "-lengths.png"
sweep(x) = (strcol(1) eq "1" || strstrt(strcol(1), "hosts:") == 1) ? x : NaN
other(x) = (strcol(1) eq "1" || strstrt(strcol(1), "hosts:") == 1) ? NaN : x

set terminal pngcairo size 1200,520 font "sans,10"
set logscale x 10
set ylabel "ns per packet"
set yrange [0:*]
set xrange [0.7:*]
set grid
set key top center horizontal maxrows 2 font "sans,9"
set offsets 0, 0, graph 0.2, 0
set style line 1 lc rgb "#c0392b" lw 2 pt 7
set style line 2 lc rgb "#c0392b" lw 2 pt 6 dt 2
set style line 3 lc rgb "#2471a3" lw 2 pt 5
set style line 4 lc rgb "#2471a3" lw 2 pt 4 dt 2
set style line 5 lc rgb "#7f8c8d" lw 2 pt 9

do for [page = 1:2] {
	if (page == 1) {
		set output outfile
		set format x "10^{%L}"
		set multiplot layout 1,2 title "cgfw cgroup egress, BPF\\_PROG\\_RUN ns/packet (median) against rules. ".subtitle
	} else {
		set output outfile2
		set format x "%g"
		set multiplot layout 1,2 title "cgfw cgroup egress, BPF\\_PROG\\_RUN ns/packet (median) against distinct prefix lengths. ".subtitle
	}
	do for [f = 0:1] {
		xc = page == 1 ? 3 + f : 5 + f
		hc = 9 + 2 * f
		cc = 13 + 2 * f
		ec = 7 + f
		set title (f ? "IPv6" : "IPv4")
		set xlabel (page == 1 ? (f ? "IPv6 rules in the set" : "IPv4 rules in the set") : (f ? "distinct IPv6 prefix lengths" : "distinct IPv4 prefix lengths"))
		if (page == 1) {
			plot datafile using (sweep(column(xc))):cc with linespoints ls 1 title "cgfw hit", \
			     datafile using (sweep(column(xc))):cc + 1 with linespoints ls 2 title "cgfw miss", \
			     datafile using (sweep(column(xc))):hc with linespoints ls 3 title "LPM trie hit", \
			     datafile using (sweep(column(xc))):hc + 1 with linespoints ls 4 title "LPM trie miss", \
			     datafile using (sweep(column(xc))):ec with linespoints ls 5 title "empty program", \
			     datafile using (other(column(xc))):cc with points ls 1 notitle, \
			     datafile using (other(column(xc))):cc + 1 with points ls 2 notitle, \
			     datafile using (other(column(xc))):hc with points ls 3 notitle, \
			     datafile using (other(column(xc))):hc + 1 with points ls 4 notitle, \
			     datafile using (other(column(xc))):ec with points ls 5 notitle, \
			     datafile using (other(column(xc))):hc:1 with labels offset 0,1 font "sans,8" notitle
		} else {
			plot datafile using xc:cc with points ls 1 title "cgfw hit", \
			     datafile using xc:cc + 1 with points ls 2 title "cgfw miss", \
			     datafile using xc:hc with points ls 3 title "LPM trie hit", \
			     datafile using xc:hc + 1 with points ls 4 title "LPM trie miss", \
			     datafile using xc:ec with points ls 5 title "empty program", \
			     datafile using (other(column(xc))):hc:1 with labels offset 0,1 font "sans,8" notitle
		}
	}
	unset multiplot
}
