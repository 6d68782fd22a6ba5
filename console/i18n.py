"""The console's words in English and French: one small catalogue, keyed by the English text's id.

The language is the reader's choice (saved in the session from the language switch), else the
best match of the browser's Accept-Language, else English. Notice bodies are not here: they
are whole templates per language under templates/<regime>/<locale>/.
"""

from __future__ import annotations

import re

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
    # incident/standing.py: an incident's one line when no deadline is counting down.
    "standing_awaiting_awareness": ("no clock (awareness not recorded)",
                                    "pas d'échéance (prise de connaissance non enregistrée)"),
    "standing_awareness_overdue": ("awareness decision overdue", "décision sur la prise de connaissance en retard"),
    "standing_without_undue_delay": ("without undue delay", "dans les meilleurs délais"),
    "standing_settled": ("every obligation settled", "toutes les obligations réglées"),
    "standing_due": ("due", "à échéance"),
    "standing_overdue": ("overdue", "en retard"),
    "standing_merged": ("merged", "fusionné"),
    "standing_dismissed": ("dismissed", "classé"),
    "standing_stopped": ("clock stopped", "délai arrêté"),
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
    # The other language's CSV, named in its own language (a French DPO exporting for an English reader).
    "download_csv_other": ("CSV en français", "CSV in English"),
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
    "sessions": ("Sessions", "Sessions"),
    "logout_everywhere": ("Log out everywhere", "Déconnecter partout"),
    "api_tokens": ("API tokens", "Jetons d'API"),
    "token_label": ("Label", "Libellé"),
    "scopes": ("Scopes", "Portées"),
    "controllers": ("Controllers", "Responsables de traitement"),
    "every_controller": ("all", "tous"),
    "controllers_help": ("ids separated by commas; *: all; empty: all for a new user, else unchanged",
                         "identifiants séparés par des virgules ; * : tous ; vide : tous (nouvel utilisateur), "
                         "sinon inchangés"),
    "created": ("Created", "Créé"),
    "expires": ("Expires", "Expire"),
    "last_used": ("Last used", "Dernier usage"),
    "never": ("never", "jamais"),
    "revoke": ("Revoke", "Révoquer"),
    "login_audit": ("Login attempts (latest 200)", "Tentatives de connexion (200 dernières)"),
    "audit_who": ("Who", "Qui"),
    "audit_client_address": ("From", "Depuis"),
    "audit_method": ("Method", "Méthode"),
    "audit_outcome": ("Outcome", "Résultat"),
    "audit_succeeded": ("succeeded", "réussie"),
    "live": ("live", "en direct"),
    "changed_reload": ("This incident changed while you were typing: reload to see it.",
                       "Cet incident a changé pendant votre saisie : rechargez pour le voir."),
    "dead_letters": ("Rejected records", "Enregistrements rejetés"),
    "rejected_title": ("Rejected records", "Enregistrements rejetés"),
    "rejected_help": ("Records a stage could not take, each kept whole (or its first 64 KiB, length and SHA-256) "
                      "on its dead-letter topic with the reason; the latest are listed here, newest first, "
                      "without their content.",
                      "Enregistrements qu'une étape n'a pas pu prendre, chacun conservé entier (ou ses 64 premiers "
                      "Kio, sa longueur et son SHA-256) sur son topic de lettres mortes avec la raison ; les plus "
                      "récents sont listés ici, du plus récent au plus ancien, sans leur contenu."),
    "see_rejected": ("see the list", "voir la liste"),
    "dlq_topic": ("Dead-letter topic", "Topic de lettres mortes"),
    "stage": ("Stage", "Étape"),
    "source_record": ("Record", "Enregistrement"),
    "at": ("At", "Le"),
    "command": ("Command", "Commande"),
    "refused_by_worker": ("Commands refused by the worker (they changed nothing)",
                          "Commandes refusées par le worker (elles n'ont rien changé)"),
    "left": ("left", "restant"),
    "event": ("Event", "Événement"),
    "overdue_by": ("overdue by", "en retard de"),
    "text_part": ("Text part", "Partie texte"),
    "html_part": ("HTML part", "Partie HTML"),
    "unknown_charset": ("Written in a character set this console does not know; shown as UTF-8, unreadable "
                        "characters replaced:",
                        "Écrit dans un jeu de caractères que cette console ne connaît pas ; affiché en UTF-8, "
                        "les caractères illisibles remplacés :"),
    "recipients": ("Recipients", "Destinataires"),
    "complement": ("Add complementary information", "Ajouter un complément d'information"),
    "classification": ("Classify (DORA major, NIS2 significant)", "Classer (DORA majeur, NIS2 important)"),
    # Where an incident stands (Incident.status): "submitted" is the authority notified, nothing less.
    "status_open": ("opened", "ouvert"),
    "status_triage": ("triage", "en analyse"),
    "status_aware": ("aware", "violation constatée"),
    "status_assessed": ("assessed", "évalué"),
    "status_drafts_requested": ("drafts requested", "projets demandés"),
    "status_drafts_delivered": ("drafts delivered", "projets remis"),
    "status_draft_failed": ("draft failed", "projet en échec"),
    "status_submitted": ("authority notified", "autorité notifiée"),
    "status_closed": ("closed", "clos"),
    "status_merged": ("merged into another incident", "fusionné dans un autre incident"),
    "status_dismissed": ("dismissed (not notified)", "classé (non notifié)"),
    "merged_banner": ("Merged into incident", "Fusionné dans l'incident"),
    "merged_clocks_stopped": ("Its clocks are stopped: the deadlines, reminders and notifications of this breach "
                              "are on that incident. Do not notify from this page.",
                              "Ses délais sont arrêtés : les échéances, rappels et notifications de cette violation "
                              "sont sur cet incident. Ne notifiez pas depuis cette page."),
    "clock_stopped": ("clock stopped", "délai arrêté"),
    # An obligation's workflow (ObligationState.status).
    "wf_running": ("running", "en cours"),
    "wf_approved": ("approved", "approuvée"),
    "wf_submitted": ("submitted", "transmise"),
    "wf_closed": ("closed", "close"),
    "wf_withdrawn": ("withdrawn", "retirée"),
    "late": ("late", "en retard"),
    "ref": ("ref", "réf."),
    "breach_types": ("breach types", "types de violation"),
    "data_categories": ("data categories", "catégories de données"),
    "subjects_estimate": ("people", "personnes"),
    "data_stores": ("data stores read or exported", "bases et stockages lus ou exportés"),
    "no_system_declares": ("no system declares it", "aucun système ne la déclare"),
    "enisa_severity": ("ENISA severity", "gravité ENISA"),
    "refused_by_incident": ("Refused by the incident", "Refusé par l'incident"),
    "rejected": ("refused", "refusé"),
    # The people affected (Art. 34): import, preview, approval, delivery.
    "affected": ("People affected (Art. 34)", "Personnes concernées (art. 34)"),
    "import_list": ("Import the people affected", "Importer les personnes concernées"),
    "import_help": ("CSV with an address (or email) column, optionally name and language; or JSONL with the "
                    "same keys. Invalid lines are reported by number, the rest is imported.",
                    "CSV avec une colonne address (ou email), et éventuellement name et language ; ou JSONL avec "
                    "les mêmes clés. Les lignes invalides sont signalées par leur numéro, le reste est importé."),
    "file": ("File", "Fichier"),
    "format": ("Format", "Format"),
    "format_auto": ("from the file name", "selon le nom du fichier"),
    "import": ("Import", "Importer"),
    "list": ("List", "Liste"),
    "imported": ("Imported", "Importée"),
    "recipient_count": ("recipients", "destinataires"),
    "invalid_lines": ("invalid lines", "lignes invalides"),
    "line": ("Line", "Ligne"),
    "more_invalid": ("more invalid lines not shown", "autres lignes invalides non affichées"),
    "imported_ok": ("List imported: the incident records it in a moment.",
                    "Liste importée : l'incident l'enregistre dans un instant."),
    "nothing_imported": ("No valid address in this file: nothing was imported.",
                         "Aucune adresse valide dans ce fichier : rien n'a été importé."),
    "form_heading": ("CNIL notification form: what the incident cannot tell",
                     "Formulaire de notification CNIL : ce que l'incident ne dit pas"),
    "form_help": ("Leave a field empty when it is not known yet: the notification says so.",
                  "Laissez vide ce qui n'est pas encore connu : la notification le dit."),
    "form_started_at": ("Start of the breach (ISO 8601 with offset)", "Début de la violation (ISO 8601 avec décalage)"),
    "form_ended_at": ("End of the breach (ISO 8601 with offset)", "Fin de la violation (ISO 8601 avec décalage)"),
    "form_ongoing": ("Still ongoing", "Toujours en cours"),
    "form_origin": ("Origin", "Origine"),
    "form_intent": ("Nature", "Nature"),
    "form_member_states": ("Other Member States (e.g. DE, BE; none)", "Autres États membres (ex. DE, BE ; none)"),
    "form_type": ("Notification", "Notification"),
    "form_police": ("Complaint to the police", "Plainte auprès de la police"),
    "form_anssi": ("Reported to ANSSI", "Signalement à l'ANSSI"),
    "form_contact_name": ("Contact for this notification (name)", "Contact pour cette notification (nom)"),
    "form_contact_details": ("Their e-mail or telephone", "Son courriel ou téléphone"),
    "form_safeguards": ("Security measures in place before the breach, one a line",
                        "Mesures de sécurité en place avant la violation, une par ligne"),
    "form_unknown": ("not known yet", "non connu"),
    "form_yes": ("yes", "oui"),
    "form_no": ("no", "non"),
    "record_form": ("Record the answers", "Enregistrer les réponses"),
    "measures_heading": ("Measures taken and proposed (Art. 33(3)(d))", "Mesures prises et envisagées (art. 33(3)(d))"),
    "measures_for": ("For", "Pour"),
    "audience_authority": ("the authority's notification", "la notification à l'autorité"),
    "audience_data_subjects": ("the notice to the people affected", "la notification aux personnes concernées"),
    "measures_taken_in": ("Measures taken, one a line", "Mesures prises, une par ligne"),
    "measures_proposed_in": ("Measures proposed, one a line", "Mesures envisagées, une par ligne"),
    "record_measures": ("Record the measures", "Enregistrer les mesures"),
    "measures_taken": ("Measures taken (one a line, required)", "Mesures prises (une par ligne, obligatoire)"),
    "measures_proposed": ("Measures proposed to them (one a line)", "Mesures proposées (une par ligne)"),
    "preview_notice": ("Preview the notice", "Prévisualiser la notification"),
    "notice_to_people": ("Notice to the people affected", "Notification aux personnes concernées"),
    "preview_language": ("Language shown", "Langue affichée"),
    "show": ("Show", "Afficher"),
    "preview_other_language": ("Shown in another language: the notice is sent in {locale}, as drafted.",
                               "Affiché dans une autre langue : la notification part en {locale}, telle que rédigée."),
    "approve_send": ("Approve and send to every recipient", "Approuver et envoyer à chaque destinataire"),
    "approve_help": ("Each person receives this notice in their language; this is what the senders render.",
                     "Chaque personne reçoit cette notification dans sa langue ; c'est ce que les envois produisent."),
    "approved": ("approved", "approuvée"),
    "progress": ("Delivery", "Envoi"),
    "sent_count": ("sent", "envoyés"),
    "pending": ("pending", "en attente"),
    "failed_count": ("failed", "en échec"),
    "bounced": ("bounced", "revenus en erreur"),
    "in_doubt": ("in doubt", "incertains"),
    "total": ("total", "total"),
    # Working an incident (console/work.py): search, owner, dismissal, notes, title.
    "search": ("Search", "Rechercher"),
    "search_help": ("reference, title, asset, owner, tag, user or IP",
                    "référence, titre, actif, responsable, étiquette, utilisateur ou IP"),
    "mine_only": ("Mine only", "Les miens seulement"),
    "owner": ("Owner", "Responsable"),
    "nobody": ("nobody", "personne"),
    "claim": ("Claim", "Prendre en charge"),
    # Paging (console/paging.py, templates/console/_paging.html).
    "paging": ("On-call paging", "Alertes d'astreinte"),
    "proposals": ("Proposed facts (the DPO decides)", "Faits proposés (le DPO décide)"),
    "proposal_would": ("would lower the risk to", "abaisseraient le risque à"),
    "proposal_confirmed": ("Confirmed by", "Confirmé par"),
    "proposal_declined": ("Declined by", "Refusé par"),
    "proposal_confirm": ("Confirm", "Confirmer"),
    "proposal_decline": ("Decline", "Refuser"),
    "proposal_waiting": ("waiting for the DPO", "en attente du DPO"),
    "page_reason_severity": ("Paged: a severe signal", "Alerte : un signal grave"),
    "page_reason_aware": ("Paged: aware of a breach", "Alerte : violation connue"),
    "page_reason_escalated": ("Paged: escalation (overdue)", "Alerte : escalade (en retard)"),
    "page_raised": ("sent", "envoyée le"),
    "page_repeated": ("repeated", "répétée"),
    "page_acknowledged_by": ("Acknowledged by", "Acquittée par"),
    "page_waiting": ("Not acknowledged.", "Non acquittée."),
    "paged_not_acknowledged": ("paged, not acknowledged", "alerte non acquittée"),
    "page_next": ("Next repeat", "Prochain rappel"),
    "page_not_repeating": ("no more repeats", "plus de rappel"),
    "acknowledge": ("Acknowledge", "Acquitter"),
    "acknowledge_help": ("someone is on it: the repeats stop", "quelqu'un s'en occupe : les rappels s'arrêtent"),
    "assign": ("Assign", "Attribuer"),
    "release": ("nobody (release)", "personne (libérer)"),
    "title": ("Title", "Titre"),
    "title_derived": ("derived from the strongest signal", "tiré du signal le plus fort"),
    "rename": ("Rename", "Renommer"),
    "title_help": ("empty: derived from the signals again", "vide : de nouveau tiré des signaux"),
    "notes": ("Notes", "Notes"),
    "add_note": ("Add a note", "Ajouter une note"),
    "note_help": ("on the timeline, as written (plain text)", "dans la chronologie, telle qu'écrite (texte brut)"),
    "dismiss": ("Dismiss", "Classer sans suite"),
    "dismiss_help": ("Examined, and not to be notified: it stays in the register with the reason; reminders and "
                     "clocks stop.", "Examiné, et à ne pas notifier : il reste au registre avec le motif ; rappels "
                     "et délais s'arrêtent."),
    "outcome": ("Outcome", "Conclusion"),
    "outcome_not_a_breach": ("not a breach", "pas une violation"),
    "outcome_false_positive": ("false positive", "faux positif"),
    "outcome_duplicate": ("duplicate", "doublon"),
    "dismissed_banner": ("Dismissed", "Classé sans suite"),
    "dismissed_as": ("Dismissed:", "Classé sans suite :"),
    "dismissed_clocks_stopped": ("Its reminders and clocks are stopped until it is reopened.",
                                 "Ses rappels et délais sont arrêtés jusqu'à sa réouverture."),
    "reopen": ("Reopen", "Rouvrir"),
    "dismiss_dpo_only": ("The controller is aware of this incident: only the DPO may dismiss or reopen it.",
                         "Le responsable de traitement a connaissance de cet incident : seul le DPO peut le classer "
                         "ou le rouvrir."),
    # Playbook tasks, tags, merging by hand (console/tasks.py).
    "tasks": ("Tasks", "Tâches"),
    "tasks_none": ("No playbook task yet: the controller's playbooks add them as the incident reaches their point.",
                   "Aucune tâche de guide pour l'instant : les guides du responsable de traitement les ajoutent "
                   "quand l'incident atteint leur étape."),
    "task_done": ("done", "faite"),
    "task_todo": ("to do", "à faire"),
    "mark_done": ("Mark done", "Marquer comme faite"),
    "mark_undone": ("Undo", "Annuler"),
    "when_opened": ("from the opening", "dès l'ouverture"),
    "when_aware": ("once aware", "après prise de connaissance"),
    "when_risk": ("at risk", "en cas de risque"),
    "when_high_risk": ("at high risk", "en cas de risque élevé"),
    "tags": ("Tags", "Étiquettes"),
    "tag": ("Tag", "Étiquette"),
    "add_tag": ("Add a tag", "Ajouter une étiquette"),
    "remove_tag": ("Remove tag", "Retirer l'étiquette"),
    "tag_help": ("one word: letters, digits, - _ .", "un mot : lettres, chiffres, - _ ."),
    "no_tag": ("none", "aucune"),
    "link": ("Merge into another incident", "Fusionner dans un autre incident"),
    "link_into": ("Incident to merge into (reference)", "Incident dans lequel fusionner (référence)"),
    "link_help": ("This incident stops; the other takes its signals and its awareness, as when the correlator "
                  "links two incidents. It cannot be undone.",
                  "Cet incident s'arrête ; l'autre reprend ses signaux et sa prise de connaissance, comme lorsque "
                  "le corrélateur relie deux incidents. C'est définitif."),
    "merge": ("Merge", "Fusionner"),
    "action_refused": ("Action refused", "Action refusée"),
    "live_updated": ("Updated at", "Mis à jour à"),
    "skip_to_content": ("Skip to the content", "Aller au contenu"),
    "report_page": ("Incident report (to print or save as PDF)", "Rapport d'incident (à imprimer ou en PDF)"),
    # The audit chain (incident/chain.py): whether the events shown are the ones the worker wrote.
    "audit_chain": ("Audit chain", "Chaîne d'audit"),
    "chain_verified": ("verified", "vérifiée"),
    "chain_from": ("from version", "à partir de la version"),
    "chain_forked": ("a crash replay forked it at version", "un rejeu après incident l'a dédoublée à la version"),
    "chain_broken": ("BROKEN at version", "ROMPUE à la version"),
    "chain_not_chained": ("not chained (events written before the chain)",
                          "non chaînée (événements écrits avant la chaîne)"),
    "chain_not_checked": ("not checked", "non vérifiée"),
    "chain_how": ("breach audit verify says where and why", "breach audit verify indique où et pourquoi"),
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


# Values the domain keeps as keys (risk levels, severity bands, breach types, notice kinds and
# audiences, clock anchors and units, form answers) as a French page reads them. In English a
# key reads as itself, "_" as a space (what the pages always showed).
WORDS_FR: dict[str, str] = {
    "unlikely": "improbable", "risk": "risque", "high": "élevé", "low": "faible", "medium": "moyen",
    "very high": "très élevé", "confidentiality": "confidentialité", "integrity": "intégrité",
    "availability": "disponibilité", "authority_notification": "notification à l'autorité",
    "data_subject_notice": "notification aux personnes concernées", "dpo-review": "relecture par le DPO",
    "authority": "autorité", "data_subjects": "personnes concernées", "public": "public",
    "awareness": "prise de connaissance", "detection": "détection", "discovery": "découverte",
    "classification": "classification", "submission": "transmission", "hours": "heures", "days": "jours",
    "business_days": "jours ouvrés", "initial": "initiale", "complete": "complète", "internal": "interne",
    "external": "externe", "malicious": "malveillante", "accidental": "accidentelle",
    "severity": "sévérité",
}


def word(key: object, lang: str) -> str:
    """A domain key as the reader's language says it ("severity 5": "sévérité 5")."""
    text = str(key)
    if lang != "fr":
        return text.replace("_", " ")
    if text in WORDS_FR:
        return WORDS_FR[text]
    head, _, rest = text.partition(" ")
    return f"{WORDS_FR[head]} {rest}" if rest and head in WORDS_FR else text.replace("_", " ")


def translator(lang: str) -> dict[str, str]:
    column = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    return {key: texts[column] for key, texts in MESSAGES.items()}


# --- refusals -------------------------------------------------------------------------------------
# The domain refuses commands with English sentences (CommandRejected.reason, recorded as such on
# incident-events and answered by the JSON API). A French reader gets them in French: each known
# reason as a pattern, its variable parts carried over. tests/unit/test_console_i18n.py checks that
# every reason the domain can raise (incident/*.py) has a pattern here, so a new one cannot slip by.
_REFUSALS: tuple[tuple[str, str], ...] = (
    (r"no incident (.+)", "aucun incident {0}"),
    (r"awareness already recorded at (.+) by (.+)", "prise de connaissance déjà enregistrée le {0} par {1}"),
    (r"awareness cannot be in the future", "la prise de connaissance ne peut pas être datée dans le futur"),
    (r"unknown command (.+)", "commande inconnue {0}"),
    (r"classification must be one of (.+)", "la classification doit être l'une de : {0}"),
    (r"a classification cannot be dated in the future", "une classification ne peut pas être datée dans le futur"),
    (r"cannot submit by e-mail: (.+); record the portal's reference \(channel portal\) or how it was sent "
     r"\(channel other\)",
     "impossible de transmettre par e-mail ({0}) : enregistrez la référence du portail (canal portal) ou "
     "comment la notification a été envoyée (canal other)"),
    (r"record awareness first: the assessment starts from it",
     "enregistrez d'abord la prise de connaissance : l'évaluation part de là"),
    (r"invalid correction: (.+)", "correction invalide : {0}"),
    (r"a correction needs a reason", "une correction doit être motivée"),
    (r"only the DPO may override the risk level", "seul le DPO peut modifier le niveau de risque"),
    (r"only the DPO confirms or declines proposed facts", "seul le DPO confirme ou refuse des faits proposés"),
    (r"no proposal (.+) on this incident", "aucune proposition {0} sur cet incident"),
    (r"proposal (\S+) is already (\S+)", "la proposition {0} est déjà tranchée ({1})"),
    (r"declining a proposal needs a reason", "refuser une proposition demande une raison"),
    (r"no proposal is waiting", "aucune proposition n'attend de décision"),
    (r"only the DPO may close a legal obligation", "seul le DPO peut clôturer une obligation légale"),
    (r"only the DPO may withdraw a legal obligation", "seul le DPO peut retirer une obligation légale"),
    (r"level must be one of (.+)", "le niveau doit être l'un de : {0}"),
    (r"an override needs a justification \(a sentence at least\)",
     "une modification du risque doit être justifiée (une phrase au moins)"),
    (r"no notice (\S+) on this incident", "aucune notification {0} sur cet incident"),
    (r"recipient is not on this notice", "ce destinataire ne figure pas sur cette notification"),
    (r"a list of affected people needs at least one valid address",
     "une liste de personnes concernées doit contenir au moins une adresse valide"),
    (r"only the DPO may approve the notice to the people affected",
     "seul le DPO peut approuver la notification aux personnes concernées"),
    (r"no list (\S+) of affected people on this incident", "aucune liste {0} de personnes concernées sur cet incident"),
    (r"the incident has no controller profile or assessment to write the notice from",
     "l'incident n'a ni profil de responsable de traitement ni évaluation pour rédiger la notification"),
    (r"say what was done \(at least one measure taken\): Art\. 34\(2\) with 33\(3\)\(d\)",
     "indiquez ce qui a été fait (au moins une mesure prise) : art. 34(2) avec 33(3)(d)"),
    (r"no notice (\S+) sent to affected people on this incident",
     "aucune notification {0} envoyée aux personnes concernées sur cet incident"),
    (r"no obligation (\S+) on this incident \(it has: (.*)\)", "aucune obligation {0} sur cet incident (il a : {1})"),
    (r"a workflow step cannot be dated in the future", "une étape ne peut pas être datée dans le futur"),
    (r"only the DPO may approve a notification", "seul le DPO peut approuver une notification"),
    (r"cannot approve: the obligation is (.+)", "approbation impossible : l'obligation est {0}"),
    (r"cannot submit: the obligation is (.+); the DPO approves first",
     "transmission impossible : l'obligation est {0} ; le DPO approuve d'abord"),
    (r"channel must be one of (.+)", "le canal doit être l'un de : {0}"),
    (r"a portal submission needs the reference the portal gave",
     "un dépôt sur le portail nécessite la référence donnée par le portail"),
    (r"say how it was sent, in the reference \(letters, a mailing, a call…\)",
     "indiquez comment elle a été envoyée, dans la référence (courriers, publipostage, appel…)"),
    (r"submitted after the deadline \((.+)\): give the reasons for the delay \((.+)\)",
     "transmise après l'échéance ({0}) : indiquez les motifs du retard ({1})"),
    (r"complementary information follows a submission", "un complément d'information suit une transmission"),
    (r"say what the complementary information is", "indiquez le complément d'information"),
    (r"a correction fixes what was submitted: submit first",
     "une correction rectifie ce qui a été transmis : transmettez d'abord"),
    (r"a correction needs its reason \(what was wrong, what is right\)",
     "une correction doit être motivée (ce qui était faux, ce qui est juste)"),
    (r"delay reasons need a text, before the obligation is settled",
     "les motifs du retard demandent un texte, avant que l'obligation soit réglée"),
    (r"close an obligation once it is submitted \(or withdraw it, with a reason\)",
     "clôturez une obligation une fois transmise (ou retirez-la, avec un motif)"),
    (r"a withdrawal needs a reason", "un retrait doit être motivé"),
    (r"unknown action (.+)", "action inconnue {0}"),
    (r"incident merged into (.+): attach the signal there", "incident fusionné dans {0} : rattachez-y le signal"),
    (r"an incident cannot merge into itself", "un incident ne peut pas fusionner avec lui-même"),
    (r"only the DPO may answer the notification form", "seul le DPO peut répondre au formulaire de notification"),
    (r"origin must be one of (.+)", "l'origine doit être l'une de : {0}"),
    (r"intent must be one of (.+)", "la nature doit être l'une de : {0}"),
    (r"notification_type must be one of (.+)", "le type de notification doit être l'un de : {0}"),
    (r"not EU/EEA country codes: (.+)", "codes de pays hors UE/EEE : {0}"),
    (r"the breach's start and end are past times with their UTC offset",
     "le début et la fin de la violation sont des moments passés, avec leur décalage UTC"),
    (r"a breach that has ended is not ongoing", "une violation terminée n'est pas en cours"),
    (r"the breach cannot end before it started", "la violation ne peut pas se terminer avant d'avoir commencé"),
    (r"only the DPO may write the measures taken and proposed",
     "seul le DPO peut rédiger les mesures prises et envisagées"),
    (r"the incident has no controller profile: no notice to write the measures in",
     "l'incident n'a pas de profil de responsable de traitement : aucune notification où écrire les mesures"),
    (r"audience must be one of (.+)", "le destinataire doit être l'un de : {0}"),
    (r"give at least one measure taken or proposed, in at least one language",
     "indiquez au moins une mesure prise ou envisagée, dans au moins une langue"),
    (r"language (.+) is not one the notices are written in \((.+)\)",
     "la langue {0} n'est pas une de celles des notifications ({1})"),
    (r"at most (.+) measures per language", "au plus {0} mesures par langue"),
    (r"a measure is at most (.+) characters", "une mesure compte au plus {0} caractères"),
    (r"the measures in place before the breach: no empty language or line",
     "les mesures en place avant la violation : ni langue ni ligne vide"),
    (r"the measures in place before the breach: at most (\S+) lines of (\S+) characters per language",
     "les mesures en place avant la violation : au plus {0} lignes de {1} caractères par langue"),
    (r"the measures in place before the breach: one text per language",
     "les mesures en place avant la violation : un texte par langue"),
    # Working an incident (incident/work.py).
    (r"incident merged into (.+): work on that one", "incident fusionné dans {0} : travaillez sur celui-là"),
    (r"a dismissal's outcome must be one of (.+)", "le motif de classement doit être l'un de : {0}"),
    (r"a dismissal needs a reason", "un classement doit être motivé"),
    (r"already dismissed as (\S+) by (.+): reopen it first", "déjà classé ({0}) par {1} : rouvrez-le d'abord"),
    (r"only the DPO may dismiss an incident the controller is aware of",
     "seul le DPO peut classer un incident dont le responsable de traitement a connaissance"),
    (r"a notified breach cannot be dismissed \((.+) submitted\): correct or complement what was sent",
     "une violation notifiée ne peut pas être classée ({0} transmise) : corrigez ou complétez ce qui a été envoyé"),
    (r"a reopening needs a reason", "une réouverture doit être motivée"),
    (r"only the DPO may reopen an incident dismissed after awareness",
     "seul le DPO peut rouvrir un incident classé après la prise de connaissance"),
    (r"an owner is at most (\S+) characters", "un responsable fait au plus {0} caractères"),
    (r"a note needs its id", "une note doit avoir un identifiant"),
    (r"a note needs a text", "une note doit avoir un texte"),
    (r"a note is at most (\S+) characters", "une note fait au plus {0} caractères"),
    (r"a title is at most (\S+) characters", "un titre fait au plus {0} caractères"),
    (r"(\S+) is one line of at most (\S+) characters",
     "{0} tient sur une ligne d'au plus {1} caractères"),
    (r"the incident was dismissed as (\S+): reopen it first", "l'incident a été classé ({0}) : rouvrez-le d'abord"),
    (r"an acknowledgement names who acknowledges", "un acquittement nomme la personne qui acquitte"),
    (r"nobody was paged for this incident", "personne n'a été appelé pour cet incident"),
    # The console's own refusals (console/actions.py) and invalid requests.
    (r"only the DPO approves or submits a notification", "seul le DPO approuve ou transmet une notification"),
    (r"only the DPO may dismiss or reopen an incident the controller is aware of",
     "seul le DPO peut classer ou rouvrir un incident dont le responsable de traitement a connaissance"),
    (r"the owner must be a console user who may act \(responder, DPO or admin\)",
     "le responsable doit être un utilisateur de la console qui peut agir (responder, DPO ou admin)"),
    # Playbook tasks, tags, merging by hand (incident/tasks.py, incident/tags.py, console/tasks.py).
    (r"no task (.+) on this incident", "aucune tâche {0} sur cet incident"),
    (r"a tag is one word of at most 32 lower-case letters, digits, '-', '_' or '\.'",
     "une étiquette est un mot d'au plus 32 lettres minuscules, chiffres, « - », « _ » ou « . »"),
    (r"an incident has at most (\S+) tags", "un incident a au plus {0} étiquettes"),
    (r"a link needs the incident to merge into", "une fusion demande l'incident dans lequel fusionner"),
    (r"a link needs a reason", "une fusion demande un motif"),
    (r"a reason is at most (\S+) characters", "un motif fait au plus {0} caractères"),
    (r"only the DPO may merge an incident the controller is aware of \(its clocks move\)",
     "seul le DPO peut fusionner un incident dont le responsable de traitement a connaissance (ses délais "
     "changent)"),
    (r"no incident to merge into by that reference", "aucun incident dans lequel fusionner sous cette référence"),
    (r"that incident is merged into (\S+): merge into that one",
     "cet incident est fusionné dans {0} : fusionnez dans celui-là"),
    (r"both incidents must be the same controller's",
     "les deux incidents doivent relever du même responsable de traitement"),
    (r"the (\S+) role may read, not act", "le rôle {0} permet de lire, pas d'agir"),
    (r"no page is waiting to be acknowledged", "aucune alerte n'attend d'acquittement"),
    (r"invalid request: (.+)", "requête invalide : {0}"),
    # The console's own words for what is missing or not the reader's (console/refusals.py).
    (r"no such incident", "aucun incident de ce nom"),
    (r"no such notice", "aucune notification de ce nom"),
    (r"no such message", "aucun message de ce nom"),
    (r"no mail catcher in this deployment", "pas de récepteur de courriels dans ce déploiement"),
    (r"this console is read-only", "cette console est en lecture seule"),
    (r"the rejected records name no controller: only a user of every controller reads them",
     "les enregistrements rejetés ne nomment aucun responsable de traitement : seul un utilisateur de tous "
     "les responsables les lit"),
    (r"only an admin manages users", "seul un administrateur gère les utilisateurs"),
    (r"only an admin manages tokens", "seul un administrateur gère les jetons"),
    (r"only the DPO may send the notice again to recipients in doubt",
     "seul le DPO peut renvoyer la notification aux destinataires incertains"),
    (r"the controller's profile gives no submission address: record a portal submission instead",
     "le profil du responsable de traitement ne donne aucune adresse de dépôt : enregistrez plutôt un dépôt "
     "sur le portail"),
)
_REFUSAL_PATTERNS = tuple((re.compile(pattern, re.DOTALL), french) for pattern, french in _REFUSALS)


def refusal(reason: str, lang: str) -> str:
    """A refusal's reason in the reader's language (unknown reasons stay as the domain wrote them)."""
    if lang != "fr":
        return reason
    for pattern, french in _REFUSAL_PATTERNS:
        found = pattern.fullmatch(reason)
        if found:
            return french.format(*found.groups())
    return reason


def translated(reason: str) -> bool:
    return any(pattern.fullmatch(reason) for pattern, _ in _REFUSAL_PATTERNS)
