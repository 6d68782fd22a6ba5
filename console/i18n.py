"""The console's words in English and French: one small catalogue, keyed by the English text's id.

The language is the reader's choice (saved in the session from the language switch), else the
best match of the browser's Accept-Language, else English. Notice bodies are not here: they
are whole templates per language under templates/<regime>/<locale>/.
"""

from __future__ import annotations

LANGUAGES = ("en", "fr")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (English, French)
    "console": ("on-call console", "console d'astreinte"),
    "incidents": ("Incidents", "Incidents"),
    "no_incident": ("No incident matches.", "Aucun incident ne correspond."),
    "reference": ("Reference", "Référence"),
    "controller": ("Controller", "Responsable de traitement"),
    "state": ("State", "État"),
    "risk": ("Risk", "Risque"),
    "next_deadline": ("Next deadline", "Prochaine échéance"),
    "time_left": ("Time left", "Temps restant"),
    "signals": ("Signals", "Signaux"),
    "overdue": ("overdue", "en retard"),
    "overdue_only": ("Overdue only", "En retard seulement"),
    "any": ("any", "tous"),
    "filter": ("Filter", "Filtrer"),
    "not_assessed": ("not assessed", "non évalué"),
    "without_undue_delay": ("without undue delay", "dans les meilleurs délais"),
    "submit_other": ("Recorded as sent otherwise", "Enregistrer un envoi par un autre moyen"),
    "how_sent": ("how it was sent (letters, mailing…)", "comment (courriers, publipostage…)"),
    "correct": ("Correct", "Corriger"),
    "correction": ("what was wrong, what is right", "ce qui était faux, ce qui est juste"),
    "no_clock": ("no clock (awareness not recorded)", "pas d'échéance (prise de connaissance non enregistrée)"),
    "unmapped": ("unmapped asset", "actif non répertorié"),
    "all_incidents": ("← all incidents", "← tous les incidents"),
    "assets": ("Assets", "Actifs"),
    "awareness": ("Awareness", "Prise de connaissance"),
    "not_recorded": ("not recorded", "non enregistrée"),
    "by": ("by", "par"),
    "obligations": ("Obligations", "Obligations"),
    "obligation": ("Obligation", "Obligation"),
    "anchor": ("Runs from", "Court depuis"),
    "deadline_utc": ("Deadline (UTC)", "Échéance (UTC)"),
    "deadline_local": ("Deadline (your time)", "Échéance (votre heure)"),
    "deadline_controller": ("Deadline (controller's zone)", "Échéance (fuseau du responsable)"),
    "workflow": ("Workflow", "Suivi"),
    "timeline": ("Timeline", "Chronologie"),
    "when": ("When", "Quand"),
    "what": ("What", "Quoi"),
    "evidence": ("Evidence", "Éléments de preuve"),
    "facts": ("Facts", "Faits"),
    "why_risk": ("Why this risk level", "Pourquoi ce niveau de risque"),
    "factor": ("Factor", "Facteur"),
    "value": ("Value", "Valeur"),
    "reason": ("Reason", "Raison"),
    "notices": ("Notices", "Notifications"),
    "preview": ("Preview as sent", "Aperçu tel qu'envoyé"),
    "delivered": ("delivered", "remis"),
    "failed": ("failed", "en échec"),
    "actions": ("Actions", "Actions"),
    "record_awareness": ("Record awareness", "Enregistrer la prise de connaissance"),
    "awareness_help": ("When you have reasonable certainty that personal data was breached, record awareness: "
                       "the 72-hour Art. 33 clock starts from the time you give.",
                       "Dès que vous avez une certitude raisonnable d'une violation de données personnelles, "
                       "enregistrez-la : le délai de 72 heures de l'art. 33 court à partir de l'heure indiquée."),
    "aware_since": ("Aware since (empty = now)", "Connue depuis (vide = maintenant)"),
    "start_triage": ("Start triage", "Commencer l'analyse"),
    "correct_facts": ("Correct facts", "Corriger les faits"),
    "facts_help": ("Fields as in a facts file (docs/risk.md), as JSON.",
                   "Champs d'un fichier de faits (docs/risk.md), en JSON."),
    "override_risk": ("Override the risk level", "Modifier le niveau de risque"),
    "justification": ("Justification (required)", "Justification (obligatoire)"),
    "approve": ("Approve", "Approuver"),
    "submit_portal": ("Record a portal submission", "Enregistrer un dépôt sur le portail"),
    "submit_email": ("Record an e-mail submission", "Enregistrer un envoi par e-mail"),
    "portal_reference": ("Reference the portal gave", "Référence donnée par le portail"),
    "delay_reasons": ("Reasons for a delay (needed when late)", "Motifs du retard (requis en cas de retard)"),
    "close": ("Close", "Clôturer"),
    "withdraw": ("Withdraw", "Retirer"),
    "sent": ("Sent: the incident records it in a moment.", "Envoyé : l'incident l'enregistre dans un instant."),
    "dpo_only": ("Only the DPO approves or submits a notification.",
                 "Seul le DPO approuve ou transmet une notification."),
    "register": ("Register (Art. 33(5))", "Registre (art. 33(5))"),
    "register_help": ("Every breach, notified or not, with its facts, effects, remedial action and reasoning.",
                      "Chaque violation, notifiée ou non, avec ses faits, ses effets, les mesures prises et le "
                      "raisonnement."),
    "download_csv": ("Download CSV", "Télécharger en CSV"),
    "download_json": ("Download JSON", "Télécharger en JSON"),
    "mail": ("Mail catcher", "Messages interceptés"),
    "mail_help": ("Embedded mode: every e-mail the service sent is held here, nothing left the machine.",
                  "Mode embarqué : chaque e-mail envoyé est retenu ici, rien n'a quitté la machine."),
    "to": ("To", "À"),
    "subject": ("Subject", "Objet"),
    "received": ("Received", "Reçu"),
    "login": ("Log in", "Connexion"),
    "logout": ("Log out", "Déconnexion"),
    "username": ("Name", "Nom"),
    "password": ("Password", "Mot de passe"),
    "login_sso": ("Log in with your organisation", "Connexion avec votre organisation"),
    "login_failed": ("Wrong name or password.", "Nom ou mot de passe incorrect."),
    "language": ("Language", "Langue"),
    "users": ("Users", "Utilisateurs"),
    "role": ("Role", "Rôle"),
    "add_user": ("Add or replace a user", "Ajouter ou remplacer un utilisateur"),
    "live": ("live", "en direct"),
    "changed_reload": ("This incident changed while you were typing: reload to see it.",
                       "Cet incident a changé pendant votre saisie : rechargez pour le voir."),
    "dead_letters": ("Rejected security records (in security-events.dlq)",
                     "Enregistrements de sécurité rejetés (dans security-events.dlq)"),
    "left": ("left", "restant"),
    "overdue_by": ("overdue by", "en retard de"),
    "text_part": ("Text part", "Partie texte"),
    "html_part": ("HTML part", "Partie HTML"),
    "recipients": ("Recipients", "Destinataires"),
    "complement": ("Add complementary information", "Ajouter un complément d'information"),
    "classification": ("Classify (DORA major, NIS2 significant)", "Classer (DORA majeur, NIS2 important)"),
}


def pick(accept_language: str, chosen: str | None = None) -> str:
    """The reader's language: their choice, else the first supported one in Accept-Language."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower().split("-")[0]))
    for _, _, lang in sorted(ranked):
        if lang in LANGUAGES:
            return lang
    return "en"


def translator(lang: str) -> dict[str, str]:
    column = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    return {key: texts[column] for key, texts in MESSAGES.items()}
