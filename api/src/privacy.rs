//! The privacy notice (issue 22 §5): `/privacidad`, in Spanish, versioned, naming the party
//! responsible for the data from settings, what is collected and why, the rights Ley 1581 de
//! 2012 gives and how to use them, with their deadlines in business days. Served by the
//! product as plain HTML (no script), so it reads on any phone and can be printed.

use poem::web::Data;

use crate::startup::AppState;

/// The notice's version: the date it took effect. A consent records the version it was given
/// under (issue 22 §1), so a new text gets a new version.
pub const NOTICE_VERSION: &str = "2026-12-06";

/// Text escaped for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An asset of the app under its content-hashed name (`/css/app.css` → `/css/app.<hash>.css`).
fn hashed(path: &str) -> String {
    let (stem, ext) = path.rsplit_once('.').unwrap_or((path, ""));
    crate::web::assets()
        .map(|a| a.path)
        .find(|p| p.starts_with(&format!("{stem}.")) && p.ends_with(&format!(".{ext}")))
        .unwrap_or(path)
        .to_string()
}

/// The notice as an HTML page, for the responsible party named in the settings.
pub fn notice_html(name: &str, nit: &str, email: &str) -> String {
    let (name, nit, email) = (esc(name), esc(nit), esc(email));
    let version = chrono::NaiveDate::parse_from_str(NOTICE_VERSION, "%Y-%m-%d").map_or_else(
        |_| NOTICE_VERSION.to_string(),
        vereda_contracts::statements::date_es,
    );
    let (css, icon) = (hashed("/css/app.css"), hashed("/icons/icon.svg"));
    format!(
        r##"<!doctype html>
<html lang="es-CO">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aviso de privacidad · Vereda</title>
<link rel="icon" href="{icon}" type="image/svg+xml">
<link rel="stylesheet" href="{css}">
</head>
<body>
<a class="skip" href="#main">Ir al contenido</a>
<header class="top"><p class="brand"><img src="{icon}" alt="" width="28" height="28"> Vereda</p></header>
<main id="main" tabindex="-1">
<h1>Aviso de privacidad</h1>
<p>Versión del {version}. Este aviso cumple la Ley 1581 de 2012 y el Decreto 1377 de 2013.</p>

<h2>Quién es responsable de sus datos</h2>
<p>{name}, NIT {nit}. Correo para todo lo relacionado con sus datos personales:
<a href="mailto:{email}">{email}</a>.</p>

<h2>Qué datos tratamos y para qué</h2>
<ul>
<li>Su nombre, cédula, correo, celular, municipio, habilidades y medio de pago: para
ofrecerle tareas, pagarle, expedir sus documentos (extracto mensual, documento soporte,
certificado de retención) y cumplir obligaciones tributarias y contables.</li>
<li>Las tareas que toma, el tiempo que registra, lo que entrega y las revisiones: para pagar el
trabajo aprobado y para que usted y la empresa vean el mismo registro.</li>
<li>Las empresas solo ven su nombre abreviado (por ejemplo «Luz T.»): nunca su cédula, celular,
correo ni municipio.</li>
</ul>

<h2>Datos sensibles, solo si usted quiere</h2>
<p>Sus ingresos antes de entrar al programa y si pertenece a un grupo (por ejemplo jóvenes,
mujeres cabeza de hogar o víctimas del conflicto armado) son datos sensibles. Solo se piden con
su autorización previa, expresa e informada, para un fin: reportes de impacto agregados para el
programa y sus financiadores, en los que nadie puede ser identificado. Darlos o no darlos nunca
cambia su acceso al trabajo, y puede retirar la autorización cuando quiera.</p>

<h2>Sus derechos</h2>
<ul>
<li>Conocer, actualizar y rectificar sus datos.</li>
<li>Pedir prueba de la autorización que dio, y revocarla.</li>
<li>Saber qué uso se ha dado a sus datos. Cada vez que alguien de Vereda ve sus datos personales
(su perfil, un extracto, un certificado o un archivo de pagos) queda registrado quién, cuándo y
qué datos vio; usted lo consulta en la aplicación, en «Quién consultó mis datos».</li>
<li>Pedir que se supriman sus datos cuando no exista un deber legal de conservarlos.</li>
<li>Presentar quejas ante la Superintendencia de Industria y Comercio, después de haber hecho su
consulta o reclamo con nosotros.</li>
</ul>

<h2>Cómo ejercerlos y en cuánto tiempo respondemos</h2>
<p>En la aplicación, en «Mi cuenta» → «Mis solicitudes sobre mis datos», o escribiendo a
<a href="mailto:{email}">{email}</a> desde el correo que tiene registrado, diciendo qué
necesita. Las consultas se responden en máximo 10 días hábiles (prorrogables 5 días hábiles
más, avisándole antes); los reclamos, en máximo 15 días hábiles (prorrogables 8 días hábiles
más). Los días hábiles son de lunes a viernes, sin festivos de Colombia.</p>

<h2>Cuánto tiempo guardamos sus datos</h2>
<p>Mientras tenga su cuenta. Si pide que la eliminemos, borramos de inmediato sus datos de
perfil y de contacto, salvo mientras tenga una tarea en curso o dinero por cobrar o en camino:
entonces le decimos qué falta, no cambiamos nada, y puede pedirlo de nuevo cuando termine; los registros contables (pagos, facturas, documentos soporte, extractos)
se conservan con acceso restringido durante los 10 años que exige la ley (Ley 962 de 2005,
artículo 28) y después se eliminan.</p>
<p><a href="/">Volver a Vereda</a></p>
</main>
</body>
</html>
"##
    )
}

/// `GET /privacidad`.
#[poem::handler]
pub async fn notice(state: Data<&AppState>) -> poem::Response {
    let s = &state.settings;
    poem::Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(poem::http::header::CACHE_CONTROL, "no-cache")
        .body(notice_html(
            &s.platform_name,
            &s.platform_nit,
            &s.privacy_email,
        ))
}
