/// The frame of every page: title, navigation, one stylesheet inline (no CDN: the service may run
/// where the internet is not reachable), usable on a laptop and a phone.
struct Layout {
    /// The path prefix a reverse proxy serves the pages under (`X-Forwarded-Prefix`), "" when none.
    let prefix: String

    func link(_ path: String) -> String { prefix + path }

    func page(_ title: String, current: String, _ body: HTML, script: HTML = "") -> HTML {
        let nav: [HTML] = [("/", "Stream"), ("/filters", "Filters"), ("/playground", "Playground"), ("/subjects", "Subjects"),
                               ("/results", "Results"), ("/dead-letters", "Dead letters")]
            .map { path, name in
                path == current ? "<a href=\"\(link(path))\" aria-current=\"page\">\(name)</a>" : "<a href=\"\(link(path))\">\(name)</a>"
            }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,">
            <title>\(title) · citsci</title>
            <style>\(HTML(raw: Self.style))</style>
            </head><body data-prefix="\(prefix)">
            <header><strong>citsci</strong><nav>\(nav)</nav></header>
            <main><h1>\(title)</h1>
            \(body)
            </main>
            \(script)
            </body></html>
            """
    }

    /// A flipbook blinks at most this many frames, each shown `blinkStep` seconds.
    static let maxBlinkFrames = 8
    static let blinkStep = 0.5

    /// One keyframes rule per frame count: frame i of n is shown for the i-th n-th of the cycle
    /// (its animation starts i steps in, by a negative delay, so no frame shows before its turn).
    static let blinkStyle = (2...maxBlinkFrames).map { n in
        "@keyframes blink\(n){0%{opacity:1}\(String(format: "%.3f", 100 / Double(n)))%,100%{opacity:0}}"
            + ".b\(n) img{animation:blink\(n) \(Double(n) * blinkStep)s step-end infinite}"
    }.joined()

    // On a phone the navigation wraps and a wide table scrolls inside its own box, so no page is
    // wider than the screen (the browser test holds every page to it at 390 px).
    static let style = blinkStyle + """
        body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
        header{display:flex;flex-wrap:wrap;gap:1em;align-items:center;padding:.6em 1em;background:#1d2b3a;color:#fff}
        header nav{display:flex;flex-wrap:wrap;gap:.2em 1em}header a{color:#cfe3ff;text-decoration:none}header a[aria-current]{color:#fff;font-weight:600}
        main{padding:0 1em 2em;max-width:1100px;margin:auto}
        table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd;vertical-align:top}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
        .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:.6em;margin:1em 0}
        .tile{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em}.tile b{display:block;font-size:1.6em}
        textarea{width:100%;box-sizing:border-box;font:14px/1.4 ui-monospace,monospace;min-height:6em}
        pre.error{background:#fff1f0;border:1px solid #e0a0a0;padding:.6em;overflow-x:auto}
        .ok{color:#1a7f37}.bad{color:#b42318}
        .matches{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:.8em}
        .match{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em}.match img{width:100px;height:100px;image-rendering:pixelated}
        input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.3em}
        form.save{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.5em;margin:1em 0}
        button{padding:.4em 1em}
        .subjects{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:.8em}
        .subject{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em}.subject h3{margin:.2em 0;font-size:1em}
        .frames{display:flex;flex-wrap:wrap;gap:.3em}.frames figure{margin:0;text-align:center;font-size:.8em}
        .frames img,.blink{width:96px;height:96px;image-rendering:pixelated}
        .blink{position:relative;outline:2px solid #1d2b3a}.blink img{position:absolute;left:0;top:0;opacity:0}
        svg.lightcurve{width:100%;max-width:420px;height:auto;display:block;margin:.4em 0}
        dl{display:grid;grid-template-columns:auto 1fr;gap:0 .8em;margin:.4em 0}dt{color:#555}dd{margin:0}
        .phase-linked{color:#1a7f37}.phase-held{color:#b42318}
        nav.pager a{margin-right:1em}
        img.stamp{width:64px;height:64px;image-rendering:pixelated}
        @media (max-width:700px){table{display:block;overflow-x:auto}}
        """
}
