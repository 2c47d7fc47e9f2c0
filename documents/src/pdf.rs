//! A small top-down page writer over `pdf-writer`: A4 pages, Helvetica and Helvetica-Bold from
//! the standard 14 fonts (every reader has them, so nothing is embedded), text in
//! Windows-1252 (`WinAnsiEncoding`) so Spanish letters print and extract as themselves.
//! Page geometry is in points (f32): the one place floating point is meant.
#![allow(clippy::float_arithmetic)]

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
pub const LEFT: f32 = 56.0;
pub const RIGHT: f32 = PAGE_W - 56.0;
const TOP: f32 = PAGE_H - 56.0;
const BOTTOM: f32 = 64.0;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Text style: size in points and weight.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub size: f32,
    pub bold: bool,
}

pub const BODY: Style = Style {
    size: 10.0,
    bold: false,
};
pub const STRONG: Style = Style {
    size: 10.0,
    bold: true,
};
pub const SMALL: Style = Style {
    size: 8.0,
    bold: false,
};
pub const TITLE: Style = Style {
    size: 16.0,
    bold: true,
};
pub const HEADING: Style = Style {
    size: 11.5,
    bold: true,
};

/// A colour: red, green and blue from 0 to 1.
#[derive(Debug, Clone, Copy)]
pub struct Rgb(pub f32, pub f32, pub f32);

/// A document being written from the top of the first page down.
pub struct Document {
    title: String,
    pages: Vec<Content>,
    y: f32,
}

impl Document {
    pub fn new(title: &str) -> Document {
        Document {
            title: title.to_string(),
            pages: vec![Content::new()],
            y: TOP,
        }
    }

    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a document always has a page")
    }

    /// Make room for `height` points, starting a new page when this one is full.
    fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.pages.push(Content::new());
            self.y = TOP;
        }
    }

    fn put(&mut self, x: f32, y: f32, style: Style, text: &str) {
        let font = if style.bold { BOLD } else { REGULAR };
        let bytes = win_ansi(text);
        let page = self.page();
        page.begin_text();
        page.set_font(font, style.size);
        page.next_line(x, y);
        page.show(Str(&bytes));
        page.end_text();
    }

    /// One line of text at `x`; moves down.
    pub fn line(&mut self, x: f32, style: Style, text: &str) {
        let h = style.size * 1.45;
        self.room(h);
        self.y -= h;
        let y = self.y;
        self.put(x, y, style, text);
    }

    /// Text wrapped to the width between `x` and the right margin.
    pub fn paragraph(&mut self, x: f32, style: Style, text: &str) {
        for l in wrap(text, style, RIGHT - x) {
            self.line(x, style, &l);
        }
    }

    /// Cells on one line: each `(x, text, right_aligned)`; right-aligned cells end at `x`.
    pub fn row(&mut self, style: Style, cells: &[(f32, &str, bool)]) {
        let h = style.size * 1.5;
        self.room(h);
        self.y -= h;
        let y = self.y;
        for (x, text, right) in cells {
            let x = if *right {
                x - text_width(text, style)
            } else {
                *x
            };
            self.put(x, y, style, text);
        }
    }

    /// A label on the left and its value right-aligned at the margin.
    pub fn pair(&mut self, style: Style, label: &str, value: &str) {
        self.row(style, &[(LEFT, label, false), (RIGHT, value, true)]);
    }

    /// A thin horizontal rule across the text width.
    pub fn rule(&mut self) {
        self.room(8.0);
        self.y -= 6.0;
        let y = self.y;
        let page = self.page();
        page.set_line_width(0.5);
        page.set_stroke_gray(0.6);
        page.move_to(LEFT, y);
        page.line_to(RIGHT, y);
        page.stroke();
        self.y -= 2.0;
    }

    /// Keep the next `heights` (points, added up) on one page: start a new one now if they
    /// do not fit.
    pub fn keep(&mut self, heights: &[f32]) {
        self.room(heights.iter().sum());
    }

    /// The height [`Document::squares`] takes, its quiet zone included.
    pub fn squares_height(width: usize, module: f32) -> f32 {
        (width + 8) as f32 * module
    }

    /// A square grid of `width` × `width` modules (`dark`, row by row from the top), each
    /// `module` points wide, with its top-left corner at `x`, the quiet zone around it left
    /// white: a QR code, drawn as filled squares so no image is embedded.
    pub fn squares(&mut self, x: f32, width: usize, dark: &[bool], module: f32) {
        let quiet = 4.0 * module;
        let side = width as f32 * module;
        self.room(side + 2.0 * quiet);
        self.y -= quiet;
        let top = self.y;
        let page = self.page();
        page.set_fill_gray(0.0);
        for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
            let (row, col) = (i / width, i % width);
            page.rect(
                x + quiet + col as f32 * module,
                top - (row + 1) as f32 * module,
                module,
                module,
            );
        }
        page.fill_nonzero();
        self.y = top - side - quiet;
    }

    /// The points left above the bottom margin of the current page.
    pub fn left(&self) -> f32 {
        self.y - BOTTOM
    }

    /// Take `height` points for a drawing, on a new page when this one lacks them; returns
    /// the block's top. Draw in it with [`Document::text_at`], [`Document::polyline`] and
    /// [`Document::fill_rect`], which take page coordinates (origin bottom-left).
    pub fn block(&mut self, height: f32) -> f32 {
        self.room(height);
        let top = self.y;
        self.y -= height;
        top
    }

    /// Text with its baseline starting at (`x`, `y`) on the current page.
    pub fn text_at(&mut self, x: f32, y: f32, style: Style, text: &str) {
        self.put(x, y, style, text);
    }

    /// Straight segments through `points`, `width` points thick, dashed in `dash`-point
    /// strokes when given.
    pub fn polyline(&mut self, points: &[(f32, f32)], width: f32, colour: Rgb, dash: Option<f32>) {
        let Some(((x0, y0), rest)) = points.split_first() else {
            return;
        };
        let page = self.page();
        page.save_state();
        page.set_line_width(width);
        page.set_stroke_rgb(colour.0, colour.1, colour.2);
        if let Some(d) = dash {
            page.set_dash_pattern([d, d], 0.0);
        }
        page.move_to(*x0, *y0);
        for (x, y) in rest {
            page.line_to(*x, *y);
        }
        page.stroke();
        page.restore_state();
    }

    /// A filled rectangle with its lower-left corner at (`x`, `y`).
    pub fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, colour: Rgb) {
        let page = self.page();
        page.save_state();
        page.set_fill_rgb(colour.0, colour.1, colour.2);
        page.rect(x, y, width, height);
        page.fill_nonzero();
        page.restore_state();
    }

    pub fn space(&mut self, points: f32) {
        self.y -= points;
    }

    /// The finished PDF.
    pub fn finish(self) -> Vec<u8> {
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let (regular, bold, info) = (Ref::new(3), Ref::new(4), Ref::new(5));
        let first_page = 6;
        let ids: Vec<(Ref, Ref)> = (0..self.pages.len() as i32)
            .map(|i| {
                (
                    Ref::new(first_page + 2 * i),
                    Ref::new(first_page + 2 * i + 1),
                )
            })
            .collect();

        pdf.catalog(catalog).pages(tree).lang(TextStr("es-CO"));
        pdf.pages(tree)
            .kids(ids.iter().map(|(p, _)| *p))
            .count(ids.len() as i32);
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("Vereda"));
        for (id, name) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
            pdf.type1_font(id)
                .base_font(Name(name.as_bytes()))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        for ((page_id, content_id), content) in ids.into_iter().zip(self.pages) {
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .parent(tree)
                .contents(content_id);
            page.resources()
                .fonts()
                .pair(REGULAR, regular)
                .pair(BOLD, bold);
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

/// UTF-8 to Windows-1252, the bytes `WinAnsiEncoding` expects. Characters it lacks print as `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            c if c.is_whitespace() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (thousandths of the font size) for printable ASCII, from
/// Adobe's font metrics; Helvetica-Bold is close enough for layout except where noted.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // digits
    278, 278, 584, 584, 584, 556, 1015, // ':'..'@'
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // 'A'..'M'
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // 'N'..'Z'
    278, 278, 278, 469, 556, 333, // '['..'`'
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // 'a'..'m'
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // 'n'..'z'
    334, 260, 334, 584, // '{'..'~'
];

fn char_width(c: char, bold: bool) -> f32 {
    // Accented letters are as wide as their base letter.
    let base = match c {
        'á' | 'à' | 'ä' | 'â' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'Á' => 'A',
        'É' => 'E',
        'Í' => 'I',
        'Ó' => 'O',
        'Ú' | 'Ü' => 'U',
        'Ñ' => 'N',
        c => c,
    };
    let w = match base {
        ' '..='~' => HELVETICA[(base as usize) - 32],
        _ => 556,
    };
    // Bold lower-case letters run wider; digits and punctuation keep their widths.
    let factor = if bold && base.is_ascii_alphabetic() {
        1.06
    } else {
        1.0
    };
    w as f32 * factor / 1000.0
}

pub fn text_width(text: &str, style: Style) -> f32 {
    text.chars().map(|c| char_width(c, style.bold)).sum::<f32>() * style.size
}

/// `text` cut to `width` points, ending in `…` when cut.
pub fn fit(text: &str, style: Style, width: f32) -> String {
    if text_width(text, style) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if text_width(&format!("{out}{c}…"), style) > width {
            break;
        }
        out.push(c);
    }
    format!("{}…", out.trim_end())
}

/// Greedy word wrap to `width` points.
fn wrap(text: &str, style: Style, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if text_width(&candidate, style) > width && !current.is_empty() {
            lines.push(std::mem::replace(&mut current, word.to_string()));
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_letters_are_single_bytes() {
        assert_eq!(win_ansi("Año €"), vec![b'A', 0xF1, b'o', b' ', 0x80]);
        assert_eq!(win_ansi("Bogotá — ñ\n"), b"Bogot\xe1 \x97 \xf1 ".to_vec());
        assert_eq!(win_ansi("漢"), b"?".to_vec());
    }

    #[test]
    fn amounts_measure_by_digits() {
        // '$' and five digits at 556 thousandths, a space and a dot at 278, at 10 pt.
        let w = text_width("$ 48.485", BODY);
        assert!(
            (w - (6.0 * 0.556 + 0.278 + 0.278) * 10.0).abs() < 0.01,
            "{w}"
        );
        assert_eq!(text_width("$ 48.485", BODY), text_width("$ 48.485", STRONG));
    }

    #[test]
    fn long_names_are_cut() {
        let name = "Compañía de Servicios Informáticos del Alto Magdalena S.A.S.";
        let cut = fit(name, BODY, 150.0);
        assert!(
            cut.ends_with('…') && text_width(&cut, BODY) <= 150.0,
            "{cut}"
        );
        assert_eq!(fit("Tienda", BODY, 150.0), "Tienda");
    }

    #[test]
    fn long_text_wraps() {
        let text = "palabra ".repeat(60);
        let lines = wrap(&text, BODY, 200.0);
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| text_width(l, BODY) <= 200.0));
    }

    #[test]
    fn documents_grow_pages() {
        let mut d = Document::new("Prueba");
        for i in 0..120 {
            d.line(LEFT, BODY, &format!("Línea {i}"));
        }
        assert!(d.pages.len() >= 2);
        let bytes = d.finish();
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
