// Every text the app shows, in Spanish (es-CO), and how money, durations and dates are written.
// Another language would be another file with the same names.

export const T = {
  verify: {
    name: 'Nombre',
    month: 'Mes',
    gross: 'Ingreso bruto',
    net: 'Ingreso neto',
    version: 'Versión',
    kind: 'Tipo',
    provisional: 'Provisional',
    final: 'Definitivo (mes cerrado)',
    empty: 'Escriba el código que aparece en el extracto.',
    checking: 'Consultando…',
    authentic: 'El código corresponde a un extracto de ingresos emitido por Vereda.',
    notFound: 'No encontramos un extracto con ese código.',
    notFoundHelp: 'Revise que esté bien escrito (12 letras y números). Si el problema sigue, pida a la persona un extracto nuevo.',
    provisionalNote: 'Es provisional: se hizo con el mes en curso y sus cifras pueden cambiar. El definitivo se emite el primer día del mes siguiente.',
    superseded: (latest, monthName) => `Este extracto fue reemplazado: la versión más reciente de ${monthName} es la ${latest}. Pida a la persona el extracto más reciente.`,
  },
  appName: 'Vereda',
  loading: 'Cargando…',
  online: 'En línea',
  offline: 'Sin conexión: lo que haga se guarda en este equipo',
  unsent: (n) => (n === 1 ? '1 registro sin enviar' : `${n} registros sin enviar`),
  allSent: 'Todo enviado',
  sending: 'Enviando registros…',
  nav: {
    tasks: 'Tareas disponibles',
    mine: 'Mis tareas',
    money: 'Mi dinero',
    account: 'Mi cuenta',
  },
  signIn: {
    title: 'Entrar a Vereda',
    email: 'Correo electrónico',
    password: 'Contraseña',
    submit: 'Entrar',
    forgot: '¿Olvidó su contraseña?',
    needOnline: 'Para entrar necesita conexión a internet.',
  },
  signOut: 'Salir',
  forgot: {
    title: 'Recuperar la contraseña',
    intro: 'Escriba su correo. Si tiene una cuenta, le enviaremos un enlace para crear una contraseña nueva. El enlace sirve durante 1 hora.',
    submit: 'Enviar el enlace',
    sent: 'Listo. Si el correo tiene una cuenta en Vereda, le llegará un mensaje con el enlace. Revise también la carpeta de correo no deseado.',
    back: 'Volver a entrar',
  },
  reset: {
    title: 'Crear una contraseña nueva',
    password: 'Contraseña nueva (mínimo 12 caracteres)',
    repeat: 'Repita la contraseña nueva',
    submit: 'Guardar la contraseña',
    mismatch: 'Las dos contraseñas no son iguales.',
    done: 'Su contraseña quedó guardada. Ya puede entrar con ella.',
    noToken: 'Este enlace no está completo. Pida uno nuevo en «¿Olvidó su contraseña?».',
  },
  tasks: {
    title: 'Tareas disponibles',
    intro: 'Tareas abiertas para sus habilidades.',
    none: 'Por ahora no hay tareas abiertas para sus habilidades. Vuelva más tarde.',
    perHour: (rate) => `${rate} por hora`,
    fixed: (price) => `${price} precio fijo`,
    maxEarn: (amount) => `Puede ganar hasta ${amount}`,
    deadline: (when) => `Tomar antes de: ${when}`,
    skills: 'Habilidades',
    // Skill tags are free slugs set by programme staff; the usual ones read in Spanish.
    skill: (slug) => ({
      'data-entry': 'digitación',
      'data-cleaning': 'limpieza de datos',
      labelling: 'etiquetado',
      labeling: 'etiquetado',
      transcription: 'transcripción',
      translation: 'traducción',
      'customer-support': 'atención al cliente',
      'web-testing': 'pruebas de sitios web',
      'content-moderation': 'moderación de contenidos',
    }[slug] || slug.replace(/-/g, ' ')),
    slots: (n) => (n === 1 ? 'Queda 1 cupo' : `Quedan ${n} cupos`),
    see: 'Ver la tarea',
    offlineCached: 'Sin conexión: esta es la lista que vio la última vez.',
  },
  task: {
    instructions: 'Instrucciones',
    claim: 'Tomar esta tarea',
    claimed: 'La tarea es suya. Ya puede empezar a trabajar.',
    claimMinutes: (m) => `Tiene ${m} para entregar después de tomarla.`,
    maxHours: (h) => `Máximo ${h} de trabajo`,
    estimated: (h) => `Tiempo estimado: ${h}`,
    needOnline: 'Para tomar una tarea necesita conexión.',
    back: 'Volver a la lista',
  },
  mine: {
    title: 'Mis tareas',
    none: 'Todavía no ha tomado tareas. Mire las tareas disponibles.',
    open: 'Abrir',
    expires: (when) => `Entregar antes de: ${when}`,
    logged: (d) => `Tiempo registrado: ${d}`,
    approved: (d, amount) => `Aprobada: ${d}${amount ? ` · ${amount}` : ''}`,
    reason: (r) => `Motivo: ${r}`,
    offlineCached: 'Sin conexión: estas son sus tareas guardadas en este equipo.',
  },
  status: {
    claimed: 'En curso',
    submitted: 'Entregada: en revisión automática',
    verified: 'Entregada: esperando a la empresa',
    changes_requested: 'Piden cambios',
    approved: 'Aprobada',
    rejected: 'Rechazada',
    released: 'Devuelta',
    expired: 'Vencida',
  },
  timer: {
    title: 'Cronómetro',
    start: 'Iniciar el cronómetro',
    stop: 'Detener el cronómetro',
    running: (d) => `Corriendo: ${d}`,
    since: (when) => `Desde ${when}`,
    otherRunning: 'Ya tiene el cronómetro corriendo en otra tarea. Deténgalo primero.',
    willStop: (when, why) => `Se detendrá solo a las ${when} (${why}).`,
    cut: (d, why) => `El cronómetro se detuvo en ${d} (${why}).`,
    tooShort: 'El cronómetro corrió menos de un segundo: no se guardó nada.',
    reasons: {
      task_cap: 'máximo de horas de la tarea',
      claim_expiry: 'fin del plazo para entregar',
      daily_limit: 'límite de horas del día',
    },
  },
  entries: {
    title: 'Tiempo registrado',
    none: 'Todavía no hay tiempo registrado en esta tarea.',
    total: (d) => `Total enviado: ${d}`,
    add: 'Agregar tiempo a mano',
    date: 'Fecha',
    from: 'Hora de inicio',
    to: 'Hora de fin',
    note: 'Nota (opcional)',
    save: 'Guardar',
    cancel: 'Cancelar',
    edit: 'Corregir',
    remove: 'Borrar',
    confirmRemove: '¿Borrar este registro?',
    unsentTag: 'Sin enviar',
    rejectedTag: 'No aceptado',
    fixAndSend: 'Corregir y enviar',
    savedOffline: 'Guardado en este equipo. Se enviará cuando haya conexión.',
    needOnline: 'Para corregir o borrar un registro ya enviado necesita conexión.',
    source: { timer: 'cronómetro', manual: 'a mano', offline: 'desde el equipo' },
    endBeforeStart: 'La hora de fin debe ser después de la hora de inicio.',
  },
  submit: {
    title: 'Entregar el trabajo',
    url: 'Enlace al trabajo (https://…)',
    notes: 'Notas para la empresa (opcional)',
    submit: 'Entregar',
    done: 'Trabajo entregado. Le avisaremos cuando lo revisen.',
    unsentFirst: 'Primero deben enviarse sus registros de tiempo. Conéctese e intente de nuevo.',
    needOnline: 'Para entregar necesita conexión.',
  },
  money: {
    title: 'Mi dinero',
    pending: 'En revisión',
    approved: 'Aprobado, por pagar',
    paid: 'Pagado',
    balance: 'Saldo para el próximo pago',
    byTask: 'Por tarea',
    payouts: 'Pagos',
    noPayouts: 'Todavía no hay pagos.',
    payoutStatus: { pending: 'En camino', paid: 'Pagado', failed: 'No se pudo pagar', in_transit: 'En camino' },
    failed: (r) => `No se pudo pagar${r ? `: ${r}` : ''}. El dinero volvió a su saldo.`,
    method: { nequi: 'Nequi', daviplata: 'Daviplata', bank: 'Cuenta bancaria', bank_account: 'Cuenta bancaria', 'bre-b': 'Bre-B', bre_b: 'Bre-B' },
    inTransit: 'Enviado, esperando confirmación del banco',
    statements: 'Certificados de ingresos',
    noStatements: 'Todavía no hay certificados mensuales.',
    pdf: 'Descargar PDF',
    code: (c) => `Código de verificación: ${c}`,
    provisional: 'Provisional',
    final: 'Definitivo',
    net: (a) => `Neto: ${a}`,
    needOnline: 'Para ver su dinero necesita conexión.',
  },
  account: {
    title: 'Mi cuenta',
    prefs: 'Correos que recibe',
    nonEssential: 'Recibir correos que no son indispensables (novedades y recordatorios)',
    savePrefs: 'Guardar preferencias',
    prefsSaved: 'Preferencias guardadas.',
    password: 'Cambiar la contraseña',
    current: 'Contraseña actual',
    newPassword: 'Contraseña nueva (mínimo 12 caracteres)',
    changePassword: 'Cambiar la contraseña',
    passwordChanged: 'Contraseña cambiada.',
    signedInAs: (name, email) => `Entró como ${name} (${email})`,
    unsentOnSignOut: (n) => `${n === 1 ? 'Tiene 1 registro sin enviar' : `Tiene ${n} registros sin enviar`}. Si sale ahora se borrarán de este equipo. ¿Salir de todos modos?`,
  },
  // The company's review queue (web/js/review.js).
  // Finance's screens (finance.js).
  finance: {
    nav: { month: 'Cierre del mes' },
    title: 'Cierre del mes',
  },
  review: {
    nav: 'Revisar entregas',
    title: 'Entregas por revisar',
    intro: 'La entrega más antigua va primero. Si nadie decide a tiempo, se aprueba sola por todo el tiempo registrado.',
    waiting: (n) => (n === 0 ? 'Ninguna entrega espera su decisión.' : n === 1 ? '1 entrega espera su decisión.' : `${n} entregas esperan su decisión.`),
    none: 'No hay entregas por revisar. Cuando alguien entregue un trabajo, aparecerá aquí.',
    more: 'Ver más entregas',
    refresh: 'Actualizar la lista',
    by: (name, when) => `Entregada por ${name} · ${when}`,
    pricing: { hourly: 'Pago por horas', fixed: 'Precio fijo' },
    logged: (d) => `${d} registradas`,
    checking: 'En revisión automática: podrá decidir cuando termine.',
    // Time left before the work is approved on its own: `2 días 3 h`, `5 h 20 min`, `12 min`.
    left: (seconds) => {
      const s = Math.max(0, Math.floor(seconds));
      const d = Math.floor(s / 86400);
      const h = Math.floor((s % 86400) / 3600);
      const m = Math.floor((s % 3600) / 60);
      if (d > 0) return `${d} ${d === 1 ? 'día' : 'días'}${h ? ` ${h} h` : ''}`;
      if (h > 0) return `${h} h${m ? ` ${m} min` : ''}`;
      return `${Math.max(1, m)} min`;
    },
    autoIn: (left, when) => `Se aprueba sola en ${left} (${when})`,
    autoSoon: 'Se aprueba sola en cualquier momento',
    findingsCount: (n) => (n === 1 ? '1 aviso de la revisión automática' : `${n} avisos de la revisión automática`),
    back: 'Volver a la lista',
    gone: 'Esta entrega ya no está por revisar: alguien la decidió o se aprobó sola.',
    deliverable: 'Trabajo entregado',
    openLink: 'Abrir el trabajo entregado',
    newTab: '(se abre en otra pestaña)',
    noLink: 'La entrega no trae enlace.',
    notes: 'Notas de quien entregó',
    noNotes: 'No escribió notas.',
    timeline: 'Tiempo registrado, día por día',
    timelineHelp: 'Cada barra es un registro de tiempo en la línea del día, de las 0 a las 24 h (hora de Bogotá). Debajo de cada día están los mismos registros en texto.',
    total: (d, days) => `Total: ${d} en ${days === 1 ? '1 día' : `${days} días`}`,
    noEntries: 'No hay registros de tiempo.',
    dayName: (iso) => new Intl.DateTimeFormat('es-CO', { timeZone: 'America/Bogota', weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(iso)),
    dayTotal: (d) => `${d} en total`,
    entry: (from, to, d, source) => `De ${from} a ${to} · ${d} · ${source}`,
    continues: 'sigue al día siguiente',
    continued: 'viene del día anterior',
    findings: 'Revisión automática',
    hard: 'Problemas encontrados',
    soft: 'Para tener en cuenta',
    noFindings: 'La revisión automática no encontró nada para señalar.',
    decision: 'Su decisión',
    choose: '¿Qué decide?',
    approve: 'Aprobar',
    approveAll: (d) => `Aprobar todo (${d})`,
    fewer: 'Aprobar menos horas',
    changes: 'Pedir cambios',
    reject: 'Rechazar',
    fewerHelp: (d) => `Registró ${d}. Escriba cuánto tiempo aprueba: menos que eso.`,
    hours: 'Horas',
    minutes: 'Minutos',
    reasonRequired: 'Motivo (obligatorio: la persona lo leerá)',
    reasonOptional: 'Comentario para la persona (opcional)',
    save: 'Guardar la decisión',
    pickOne: 'Elija una decisión.',
    needReason: 'Escriba el motivo: la persona lo leerá.',
    needFewer: (d) => `Escriba un tiempo mayor que cero y menor que lo registrado (${d}).`,
    done: {
      approve: 'Entrega aprobada.',
      fewer: (d) => `Entrega aprobada por ${d}.`,
      changes: 'Se pidieron cambios. La persona verá su motivo.',
      reject: 'Entrega rechazada. La persona verá su motivo.',
    },
    next: 'Esta es la siguiente entrega.',
    allDone: 'No quedan entregas por revisar.',
  },
  // The company owner's screens (web/js/company.js).
  company: {
    nav: {
      tasks: 'Tareas y lotes',
      newTask: 'Publicar una tarea',
      newBatch: 'Publicar un lote',
      invoices: 'Facturas',
      company: 'Empresa',
    },
    ownerOnly: 'Esta pantalla es solo para la persona propietaria de la empresa.',
    toReview: 'Ir a la revisión',
    back: 'Volver a tareas y lotes',
    more: 'Ver más',
    yes: 'Sí',
    no: 'No',
    taskStatus: { draft: 'Borrador', open: 'Publicada', closed: 'Cerrada', cancelled: 'Cancelada' },
    batchStatus: { draft: 'Borrador', open: 'Publicado', closed: 'Cerrado', cancelled: 'Cancelado' },
    categories: {
      support: 'Soporte y atención al cliente',
      'data-entry': 'Digitación',
      'data-cleaning': 'Limpieza de datos',
      labelling: 'Etiquetado',
      'qa-testing': 'Pruebas de software',
      'content-moderation': 'Moderación de contenidos',
      other: 'Otra',
    },
    // Task list and detail
    list: {
      title: 'Tareas y lotes',
      intro: 'Sus tareas publicadas y en borrador, y los lotes creados desde un archivo.',
      batches: 'Lotes',
      noBatches: 'Todavía no ha creado lotes.',
      tasks: 'Tareas',
      noTasks: 'Todavía no ha publicado tareas.',
      filter: 'Mostrar',
      all: 'Todas',
      apply: 'Mostrar',
      slotsFree: (free, total) => `${free} de ${total} ${total === 1 ? 'cupo libre' : 'cupos libres'}`,
      inBatch: 'Del lote',
      tasksInBatch: (n, slots) => `${n === 1 ? '1 tarea' : `${n} tareas`} · ${slots === 1 ? '1 cupo' : `${slots} cupos`} cada una`,
      newTask: 'Publicar una tarea',
      newBatch: 'Publicar un lote desde un archivo',
    },
    progress: {
      open_slots: 'Cupos libres',
      in_progress: 'En curso',
      to_review: 'Por revisar',
      approved: 'Aprobadas',
      rejected: 'Rechazadas',
    },
    task: {
      pay: 'Pago',
      perHour: (rate, max) => `${rate} por hora, máximo ${max} por cupo`,
      fixed: (price, est) => `${price} precio fijo (tiempo estimado: ${est})`,
      slots: 'Cupos',
      claimTime: 'Tiempo para entregar',
      reviewTime: 'Plazo para revisar',
      deadline: 'Fecha límite',
      noDeadline: 'Sin fecha límite',
      category: 'Categoría',
      skills: 'Habilidades',
      noSkills: 'Ninguna',
      instructions: 'Instrucciones',
      batch: 'Lote',
      publish: 'Publicar',
      cancel: 'Cancelar la tarea',
      confirmPublish: '¿Publicar esta tarea? Quienes tengan las habilidades podrán tomarla.',
      confirmCancel: '¿Cancelar esta tarea? Quienes la tomaron y no han entregado la pierden; lo ya entregado se revisa y se paga.',
      published: 'Tarea publicada.',
      cancelled: 'Tarea cancelada.',
      draftSaved: 'Borrador guardado. Revise el costo y publíquela cuando esté lista.',
      assignments: 'Personas trabajando en esta tarea',
      noAssignments: 'Nadie ha tomado esta tarea todavía.',
      claimedAt: (w) => `Tomada: ${w}`,
      expiresAt: (w) => `Debe entregar antes de: ${w}`,
      submittedAt: (w) => `Entregada: ${w}`,
      reviewDue: (w) => `Se aprueba sola si nadie la revisa antes de: ${w}`,
      logged: (d) => `Tiempo registrado: ${d}`,
      approved: (d) => `Tiempo aprobado: ${d}`,
      reason: (r) => `Motivo: ${r}`,
      deliverable: 'Ver el trabajo entregado',
      extend: 'Dar más tiempo para entregar',
      extendBy: 'Tiempo adicional',
      extendOptions: [[30, '30 minutos'], [60, '1 hora'], [240, '4 horas'], [1440, '1 día'], [4320, '3 días']],
      extendSubmit: 'Dar más tiempo',
      extended: (w) => `Listo: ahora puede entregar hasta ${w}.`,
    },
    assignmentStatus: {
      claimed: 'En curso',
      submitted: 'Entregada: revisión automática',
      verified: 'Entregada: por revisar',
      changes_requested: 'Se pidieron cambios',
      approved: 'Aprobada',
      rejected: 'Rechazada',
      released: 'Devuelta',
      expired: 'Vencida',
    },
    // The task form (one task, or a batch's template)
    form: {
      newTitle: 'Publicar una tarea',
      intro: 'La tarea se guarda como borrador; la publica cuando haya revisado el costo.',
      title: 'Título',
      instructions: 'Instrucciones para quien haga la tarea',
      category: 'Categoría',
      skills: 'Habilidades requeridas',
      skillsHint: 'Solo podrán tomarla quienes tengan todas las habilidades marcadas.',
      otherSkills: 'Otras habilidades (separadas por comas, opcional)',
      pricing: 'Forma de pago',
      hourly: 'Por hora',
      fixed: 'Precio fijo',
      rate: 'Tarifa por hora (pesos)',
      maxHours: 'Máximo de horas pagadas por cupo',
      price: 'Precio por cupo (pesos)',
      estimatedHours: 'Horas estimadas de trabajo',
      slots: 'Cupos (personas que pueden hacerla, 1 a 1000)',
      claimHours: 'Horas para entregar después de tomarla',
      reviewHours: 'Horas para revisar cada entrega (después se aprueba sola)',
      deadlineDate: 'Fecha límite para tomarla (opcional, hora de Bogotá)',
      deadlineTime: 'Hora límite (hora de Bogotá)',
      save: 'Guardar como borrador',
      pesosHint: 'En pesos, sin centavos: 18500 o 18.500',
    },
    cost: {
      title: 'Costo estimado',
      hint: 'Escriba el pago y los cupos para ver cuánto le costará.',
      computing: 'Calculando…',
      oneSlot: 'Un cupo',
      allSlots: (n) => (n === 1 ? 'El cupo' : `Los ${n} cupos`),
      perTaskNote: 'Es el costo de cada tarea del lote; el total del lote aparece al crear los borradores. Se cobra solo el trabajo aprobado.',
      concept: 'Concepto',
      work: 'Pago a quien trabaja (máximo)',
      fee: 'Comisión de Vereda',
      vat: 'IVA sobre la comisión',
      total: 'Total',
      note: 'Son las mismas cifras con que se factura: se cobra solo el trabajo aprobado.',
      caption: 'Costo estimado de la tarea, en pesos',
    },
    // Batches
    batch: {
      newTitle: 'Publicar un lote desde un archivo',
      intro: 'Cree muchas tareas a la vez: una plantilla y un archivo CSV con una fila por tarea. Las tareas quedan en borrador hasta que publique el lote.',
      templateTitle: '1. La plantilla',
      placeholdersHint: 'En el título y las instrucciones puede usar ${columna}: se reemplaza por el valor de esa columna en cada fila. Ejemplo: «Clasificar los tiquetes de ${cliente}».',
      fileTitle: '2. El archivo',
      file: 'Archivo CSV (separado por comas o por punto y coma, como lo guarda Excel)',
      fileHint: 'La primera fila nombra las columnas; cada fila siguiente es una tarea (hasta 1000).',
      rows: (n) => (n === 1 ? '1 fila' : `${n} filas`),
      firstRows: (n) => `Primeras ${n} filas del archivo`,
      line: 'Fila',
      separator: (s) => `Separador: ${s === ';' ? 'punto y coma' : 'coma'}`,
      noFile: 'Elija un archivo primero.',
      unreadable: 'No se pudo leer el archivo. ¿Es un archivo de texto CSV?',
      create: 'Crear borradores',
      created: (n) => `Se crearon ${n === 1 ? '1 tarea' : `${n} tareas`} en borrador. Revise el costo y publique el lote.`,
      refused: 'No se creó ninguna tarea. Corrija estas filas y suba el archivo otra vez:',
      totalCost: 'Costo total del lote',
      tasks: 'Tareas',
      slotsPerTask: 'Cupos por tarea',
      preview: 'Así quedaron las primeras tareas',
      title: 'Título',
      publish: 'Publicar el lote',
      cancel: 'Cancelar el lote',
      confirmPublish: (n) => `¿Publicar ${n === 1 ? 'la tarea' : `las ${n} tareas`} del lote?`,
      confirmCancel: '¿Cancelar el lote? Sus tareas en borrador o abiertas se cancelan y quienes las tomaron sin entregar las pierden.',
      published: 'Lote publicado: sus tareas ya están abiertas.',
      cancelled: 'Lote cancelado.',
      results: 'Descargar los resultados (CSV)',
      progress: 'Avance',
      createdAt: (w) => `Creado: ${w}`,
      publishedAt: (w) => `Publicado: ${w}`,
      cancelledAt: (w) => `Cancelado: ${w}`,
      columns: 'Columnas',
      see: 'Ver el lote',
    },
    // Invoices
    invoices: {
      title: 'Facturas',
      none: 'Todavía no hay facturas.',
      number: (n) => `Factura ${n}`,
      issued: (d) => `Emitida: ${d}`,
      due: (d) => `Vence: ${d}`,
      total: 'Total',
      paid: 'Pagado',
      outstanding: 'Saldo por pagar',
      status: { issued: 'Por pagar', partially_paid: 'Pagada en parte', paid: 'Pagada', void: 'Anulada' },
      statement: 'Estado de cuenta (PDF)',
      see: 'Ver la factura',
      period: (d) => `Trabajo aprobado hasta el ${d}`,
      work: 'Trabajo',
      fee: 'Comisión de Vereda',
      vat: 'IVA',
      lines: 'Detalle',
      linesCaption: 'Trabajo facturado, una línea por entrega aprobada',
      task: 'Tarea',
      kind: 'Tipo',
      kinds: { hourly: 'Por hora', fixed: 'Precio fijo' },
      time: 'Tiempo',
      rate: 'Tarifa por hora',
      payments: 'Pagos recibidos',
      noPayments: 'Todavía no hay pagos registrados.',
      paymentDate: 'Fecha',
      reference: 'Referencia',
      amount: 'Valor',
      state: 'Estado',
      paymentStatus: { recorded: 'Registrado', posted: 'Aplicado', reversal_requested: 'En reversión', reversed: 'Reversado' },
      creditNotes: 'Notas crédito',
      noCreditNotes: 'No hay notas crédito.',
      creditNoteNumber: 'Número',
      creditNoteReason: 'Motivo',
      creditNoteStatus: { requested: 'En trámite', issued: 'Emitida' },
      pdf: 'Descargar PDF',
      csv: 'Descargar CSV',
      back: 'Volver a las facturas',
    },
    // Company and members
    profile: {
      title: 'Empresa',
      nit: (n) => `NIT ${n}`,
      name: 'Nombre de la empresa',
      billingEmail: 'Correo para las facturas',
      cycle: 'Facturación',
      cycles: { monthly: 'Mensual', weekly: 'Semanal' },
      save: 'Guardar los cambios',
      saved: 'Cambios guardados.',
      members: 'Personas de la empresa',
      roles: { owner: 'Propietaria', reviewer: 'Revisora' },
      you: '(usted)',
      deactivated: 'Cuenta desactivada',
      remove: 'Quitar',
      confirmRemove: (name) => `¿Quitar a ${name} de la empresa? No podrá volver a entrar.`,
      removed: (name) => `${name} ya no es parte de la empresa.`,
      invite: 'Invitar a una persona revisora',
      inviteHint: 'Le llegará un correo con un enlace (válido 7 días) para crear su contraseña. Podrá revisar las entregas; no podrá publicar tareas.',
      inviteName: 'Nombre',
      inviteEmail: 'Correo electrónico',
      inviteSubmit: 'Enviar la invitación',
      invited: (email) => `Invitación enviada a ${email}.`,
    },
  },
  // Programme staff's screens (staff.js).
  staff: {
    nav: { people: 'Personas', cohort: 'Importar cohorte', skills: 'Habilidades' },
    title: 'Personas',
    back: 'Volver a personas',
    more: 'Ver más',
    status: { active: 'Activa', deactivated: 'Desactivada' },
    groups: {
      youth: 'Joven',
      woman_head_of_household: 'Mujer cabeza de hogar',
      conflict_victim: 'Víctima del conflicto',
    },
    // The workers
    people: {
      title: 'Personas',
      intro: 'Las personas trabajadoras del programa, las más recientes primero. Abra una para ver su perfil o desactivar su cuenta.',
      none: 'Todavía no hay personas trabajadoras. Importe una cohorte para empezar.',
      noneWithSkill: 'Ninguna persona tiene esa habilidad.',
      import: 'Importar una cohorte',
      caption: 'Personas trabajadoras',
      name: 'Nombre',
      place: 'Municipio (departamento)',
      skills: 'Habilidades',
      status: 'Estado',
      filter: 'Habilidad',
      all: 'Todas las habilidades',
      apply: 'Filtrar',
      shown: (n) => (n === 1 ? 'Se muestra 1 persona.' : `Se muestran ${n} personas.`),
    },
    place: (municipality, department) => `${municipality} (${department})`,
    // One worker
    person: {
      profile: 'Perfil',
      email: 'Correo',
      documentId: 'Cédula',
      phone: 'Celular',
      municipality: 'Municipio',
      department: 'Departamento',
      code: (name, code) => (code ? `${name} · código DANE ${code}` : name),
      skills: 'Habilidades',
      noSkills: 'Ninguna registrada',
      payout: 'Medio de pago',
      group: 'Grupo del programa',
      noGroup: 'No declarado',
      created: 'Registrada el',
      none: '—',
      payouts: {
        nequi: (p) => `Nequi, celular ${p.phone}`,
        daviplata: (p) => `Daviplata, celular ${p.phone}`,
        bank: (p) => `${p.bank}, cuenta ${p.account_type === 'checking' ? 'corriente' : 'de ahorros'} n.º ${p.account_number}`,
        'bre-b': (p) => `Llave Bre-B: ${p.key}`,
      },
      duplicateTitle: 'Medio de pago repetido',
      duplicate: (n) => (n === 1
        ? 'Otra persona recibe sus pagos en el mismo celular o cuenta. Puede ser un error al escribirlo o una misma persona con dos cuentas: revíselo antes del próximo pago.'
        : `Otras ${n} personas reciben sus pagos en el mismo celular o cuenta. Puede ser un error al escribirlo o una misma persona con varias cuentas: revíselo antes del próximo pago.`),
      account: 'Cuenta',
      activeSince: 'La cuenta está activa: puede entrar a Vereda y tomar tareas.',
      deactivatedSince: (d) => `La cuenta está desactivada desde el ${d}: no puede entrar a Vereda.`,
      deactivateWhat: 'Si desactiva la cuenta:',
      deactivateEffects: [
        'ya no podrá entrar a Vereda (se le responde como a una contraseña equivocada);',
        'se cierra su sesión en todos sus equipos de inmediato;',
        'las tareas que tenga tomadas y sin entregar se liberan, y sus cupos vuelven a quedar disponibles para otras personas;',
        'su dinero, sus pagos, sus extractos, el trabajo que ya entregó y su historial se conservan.',
      ],
      reactivateWhat: 'Si reactiva la cuenta:',
      reactivateEffects: [
        'podrá entrar de nuevo con su contraseña;',
        'las tareas que se liberaron al desactivarla no vuelven a ella: puede tomar otras;',
        'su dinero y su historial siguen como estaban.',
      ],
      deactivate: 'Desactivar la cuenta',
      reactivate: 'Reactivar la cuenta',
      confirmDeactivate: (name) => `¿Desactivar la cuenta de ${name}? No podrá entrar, se cerrará su sesión en todos sus equipos y se liberarán sus tareas sin entregar. Su dinero y su historial se conservan.`,
      confirmReactivate: (name) => `¿Reactivar la cuenta de ${name}? Podrá entrar de nuevo con su contraseña.`,
      deactivated: (name) => `Cuenta desactivada: ${name} ya no puede entrar y sus tareas sin entregar quedaron libres. Su dinero y su historial se conservan.`,
      reactivated: (name) => `Cuenta reactivada: ${name} ya puede entrar de nuevo.`,
    },
    // Importing a cohort
    cohort: {
      title: 'Importar una cohorte',
      intro: 'Cree de una vez las cuentas de las personas que terminaron la formación: una hoja de cálculo con una fila por persona. Primero se revisa el archivo completo; si una fila tiene un error no se crea ninguna cuenta.',
      templateTitle: '1. La plantilla',
      templateText: 'Descargue la plantilla, llénela en Excel (una fila por persona) y guárdela como «CSV (delimitado por comas)» o por punto y coma.',
      template: 'Descargar la plantilla (CSV)',
      columnsCaption: 'Qué va en cada columna de la plantilla',
      required: '(obligatoria)',
      columns: {
        nombre: 'Nombre completo.',
        correo: 'Correo electrónico: allí le llega la invitación para crear su contraseña.',
        cedula: 'Cédula de ciudadanía, solo números (5 a 10 dígitos).',
        celular: 'Celular colombiano de 10 dígitos, empieza por 3.',
        municipio: 'Municipio como lo nombra el DANE, por ejemplo Chaparral.',
        departamento: 'Departamento del municipio, por ejemplo Tolima.',
        habilidades: 'Habilidades del catálogo, separadas por | o espacios, por ejemplo data-entry|labelling.',
        medio_pago: 'nequi, daviplata, banco o bre-b.',
        celular_pago: 'Celular de Nequi o Daviplata, si no es el mismo de la columna celular.',
        banco: 'Para pago a cuenta bancaria: el banco.',
        tipo_cuenta: 'Para pago a cuenta bancaria: ahorros o corriente.',
        numero_cuenta: 'Para pago a cuenta bancaria: el número, de 6 a 20 dígitos.',
        llave: 'Para Bre-B: la llave (cédula, celular, correo o alias).',
        grupo: 'Opcional y voluntario: joven, mujer cabeza de hogar o víctima del conflicto. Solo se usa en reportes sin nombres.',
      },
      catalogue: (names) => `Habilidades del catálogo: ${names}.`,
      fileTitle: '2. El archivo',
      file: 'Archivo CSV de la cohorte',
      fileHint: 'La primera fila nombra las columnas, como en la plantilla; cada fila siguiente es una persona (hasta 1000).',
      unreadable: 'No se pudo leer el archivo. ¿Es un archivo de texto CSV?',
      noFile: 'Elija un archivo primero.',
      rows: (n) => (n === 1 ? '1 persona' : `${n} personas`),
      separator: (s) => `Separador: ${s === ';' ? 'punto y coma' : 'coma'}`,
      previewCaption: (shown, all) => (shown === all ? 'Las filas del archivo' : `Las primeras ${shown} de ${all} filas del archivo`),
      line: 'Fila',
      submit: 'Crear las cuentas',
      refused: 'No se creó ninguna cuenta. Corrija estas filas del archivo y súbalo otra vez:',
      refusedFile: 'No se creó ninguna cuenta.',
      created: (n) => (n === 1 ? 'Se creó 1 cuenta.' : `Se crearon ${n} cuentas.`),
      invited: 'A cada persona le enviamos un correo de invitación para que cree su contraseña; el enlace sirve durante 7 días.',
      duplicatesTitle: 'Medios de pago repetidos',
      duplicatesText: 'Estas personas reciben sus pagos en el mismo celular o cuenta que otra persona. Las cuentas se crearon igual; revíselo antes del próximo pago.',
      duplicate: (line, name, others) => `Fila ${line}, ${name}: el mismo medio de pago que ${others}.`,
      twin: (name, line) => (line ? `${name} (fila ${line})` : `${name} (ya registrada)`),
      createdCaption: 'Cuentas creadas',
      email: 'Correo',
      place: 'Municipio (departamento)',
      another: 'Importar otra cohorte',
      seePeople: 'Ver las personas',
    },
    // The skills catalogue
    skills: {
      title: 'Habilidades',
      intro: 'El catálogo de habilidades que las personas ganan en la formación y que las tareas piden. Una habilidad que no está aquí se rechaza al importar una cohorte o publicar una tarea.',
      caption: 'Catálogo de habilidades',
      label: 'Habilidad',
      status: 'Estado',
      actions: 'Acción',
      active: 'En uso',
      retired: 'Retirada',
      none: 'El catálogo está vacío.',
      retire: 'Retirar',
      restore: 'Volver a usar',
      confirmRetire: (label) => `¿Retirar «${label}»? Quienes ya la tienen (personas y tareas) la conservan, pero no se podrá dar a nuevas.`,
      retiredDone: (label) => `«${label}» quedó retirada. Quienes ya la tenían la conservan.`,
      restored: (label) => `«${label}» está en uso de nuevo.`,
      add: 'Agregar una habilidad',
      newLabel: 'Nombre para mostrar (por ejemplo Excel avanzado)',
      newName: 'Etiqueta: minúsculas sin tildes, números y guiones (por ejemplo excel-avanzado)',
      submit: 'Agregar',
      added: (label) => `«${label}» se agregó al catálogo.`,
    },
  },
  notFound: 'Esta pantalla no existe.',
  sessionEnded: 'Su sesión terminó. Entre de nuevo.',
};

// A Spanish sentence for each problem `code` (and `field` where it matters).
const CODES = {
  invalid_credentials: 'El correo o la contraseña no son correctos.',
  too_many_attempts: 'Demasiados intentos. Espere unos minutos y vuelva a intentar.',
  task_full: 'Otra persona tomó el último cupo de esta tarea antes que usted. Busque otra tarea disponible.',
  already_claimed: 'Usted ya tomó esta tarea.',
  too_many_active: 'Ya tiene el máximo de tareas en curso. Entregue una antes de tomar otra.',
  missing_skill: 'Esta tarea pide una habilidad que usted no tiene registrada.',
  task_not_open: 'Esta tarea ya no está abierta.',
  task_cancelled: 'La empresa canceló esta tarea.',
  task_finished: 'Esta tarea ya terminó.',
  deadline_passed: 'Ya pasó la fecha límite de esta tarea.',
  claim_expired: 'Se acabó el plazo para entregar esta tarea.',
  claim_cancelled: 'Esta tarea fue cancelada.',
  assignment_not_active: 'Esta tarea ya no recibe tiempo ni entregas.',
  not_submittable: 'Esta tarea no se puede entregar en su estado actual.',
  not_releasable: 'Esta tarea no se puede devolver ahora.',
  entry_overlaps: 'Este registro se cruza con otro tiempo que ya registró. Corrija las horas para que no se crucen.',
  entry_in_future: 'El registro termina en el futuro. Revise la hora de fin.',
  entry_too_old: 'El registro es demasiado antiguo para agregarlo.',
  end_not_after_start: 'La hora de fin debe ser después de la hora de inicio.',
  over_task_cap: 'Con este registro pasaría el máximo de horas de la tarea.',
  over_daily_limit: 'Con este registro pasaría el límite de horas de trabajo del día.',
  entry_locked: 'Este registro ya no se puede cambiar: la tarea fue entregada.',
  timer_running: 'El cronómetro está corriendo.',
  timer_not_running: 'El cronómetro no está corriendo.',
  reset_token_invalid: 'El enlace para crear la contraseña no sirve: ya se usó o pasó más de 1 hora. Pida uno nuevo.',
  csrf_refused: 'La solicitud fue rechazada por seguridad. Recargue la página e intente de nuevo.',
  not_found: 'No encontramos lo que busca.',
  database_unavailable: 'El servicio no está disponible en este momento. Intente de nuevo en unos minutos.',
  internal_error: 'Algo falló en el servidor. Intente de nuevo en unos minutos.',
  payload_too_large: 'Lo que envió es demasiado grande.',
  state_changed: 'La tarea cambió mientras tanto. Recargue la página.',
  verification_pending: 'La revisión automática de su entrega aún no termina.',
  not_reviewable: 'Esta entrega ya no se puede revisar: alguien la decidió o se aprobó sola.',
  zero_approval: 'Aprobar cero horas es rechazar: use «Rechazar» y escriba el motivo.',
  fixed_price_seconds: 'Una tarea de precio fijo se aprueba completa: no se aprueban menos horas.',
  unauthorized: 'Su sesión terminó. Entre de nuevo.',
  forbidden: 'No tiene permiso para hacer esto.',
};

const FIELDS = {
  email: 'El correo electrónico no es válido.',
  password: 'La contraseña no es válida: use al menos 12 caracteres.',
  new_password: 'La contraseña nueva no es válida: use al menos 12 caracteres y que no sea igual a la actual.',
  current_password: 'La contraseña actual no es correcta.',
  deliverable_url: 'El enlace al trabajo no es válido: debe empezar por https://',
  notes: 'Las notas son demasiado largas.',
  note: 'La nota es demasiado larga o tiene caracteres no permitidos.',
  started_at: 'La hora de inicio no es válida.',
  ended_at: 'La hora de fin no es válida.',
  token: 'El enlace no es válido. Pida uno nuevo.',
  reason: 'Escriba el motivo (máximo 2000 caracteres).',
  approved_seconds: 'El tiempo aprobado debe ser mayor que cero y no más que el registrado.',
};

/** The Spanish sentence for a refusal: the server's own, else the catalogue's. */
export function refusalText(problem, status) {
  if (problem && typeof problem.detail_es === 'string' && problem.detail_es) return problem.detail_es;
  const code = problem && problem.code;
  const field = problem && problem.field;
  if (code && CODES[code]) return CODES[code];
  if (field && FIELDS[field]) return FIELDS[field];
  if (status === 401) return CODES.unauthorized;
  if (status === 403) return CODES.forbidden;
  if (status === 404) return CODES.not_found;
  if (status >= 500) return CODES.internal_error;
  return 'No se pudo hacer. Revise los datos e intente de nuevo.';
}

export const NETWORK_ERROR = 'No hay conexión con Vereda. Revise su señal e intente de nuevo.';

/** `$ 48.485` (pesos; centavos only when there are some: `$ 1.234,50`). */
export function money(value) {
  if (value === null || value === undefined || value === '') return '—';
  const s = String(value).trim();
  const negative = s.startsWith('-');
  const [intPart, frac = ''] = s.replace('-', '').split('.');
  const grouped = intPart.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const cents = frac.padEnd(2, '0').slice(0, 2);
  return `${negative ? '-' : ''}$ ${grouped}${cents !== '00' ? `,${cents}` : ''}`;
}

/** `2 h 37 min`, `45 min`, `20 s`. */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0 || s === 0) return `${m} min`;
  return `${s} s`;
}

/** A clock for a running timer: `1 h 02 min 05 s`. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h} h ${m} min ${r} s` : `${m} min ${r} s`;
}

/** Hours given as a decimal string: `"2.5"` → `2 h 30 min`. */
export function hours(value) {
  return duration(Math.round(Number(value) * 3600));
}

const TZ = 'America/Bogota';
const dateTimeFmt = new Intl.DateTimeFormat('es-CO', {
  timeZone: TZ, weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit',
});
const dateFmt = new Intl.DateTimeFormat('es-CO', { timeZone: TZ, day: 'numeric', month: 'long', year: 'numeric' });
const timeFmt = new Intl.DateTimeFormat('es-CO', { timeZone: TZ, hour: 'numeric', minute: '2-digit' });
const monthFmt = new Intl.DateTimeFormat('es-CO', { timeZone: 'UTC', month: 'long', year: 'numeric' });

/** In Bogotá time: `vie, 5 dic, 3:40 p. m.` */
export function when(iso) {
  return iso ? dateTimeFmt.format(new Date(iso)) : '—';
}
export function day(iso) {
  return iso ? dateFmt.format(new Date(iso)) : '—';
}
export function time(iso) {
  return iso ? timeFmt.format(new Date(iso)) : '—';
}
/** `2026-11` → `noviembre de 2026`. */
export function month(ym) {
  return monthFmt.format(new Date(`${ym}-15T12:00:00Z`));
}

/** Bogotá is UTC−5 all year: a date and a time there as an instant. */
export function bogotaInstant(date, hm) {
  return new Date(`${date}T${hm}:00-05:00`);
}
/** An instant as a Bogotá date (`2026-12-05`) and time (`14:30`), for form fields. */
export function bogotaParts(iso) {
  const d = new Date(new Date(iso).getTime() - 5 * 3600 * 1000).toISOString();
  return { date: d.slice(0, 10), time: d.slice(11, 16) };
}
