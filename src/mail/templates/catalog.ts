import type { EmailLocale, EmailTemplateName } from '../../domain/mail/outgoing-email.js';

/** What a template's wording may use; already plain text (escaping happens when the HTML is built). */
export interface Wording {
  /** The organization on the project ("Acme on Understudy"), or the project alone when there is none. */
  readonly place: string;
  readonly project: string;
  readonly inviter: string | undefined;
  /** impersonation_started: who acts (their address, or the words for an organization's own admin). */
  readonly impersonator?: string | undefined;
  /** impersonation_started, to admins: the member acted as; undefined when the member is the reader. */
  readonly member?: string | undefined;
}

export interface TemplateText {
  readonly subject: (w: Wording) => string;
  /** The sentence before the button or the code. */
  readonly intro: (w: Wording) => string;
  /** The button's label (magic-link templates only). */
  readonly action?: string;
  /** The password reset templates' second link (sign in without a password): the sentence before it and its button's label. */
  readonly alternative?: { readonly intro: (w: Wording) => string; readonly action: string };
}

export interface LocaleText {
  readonly place: (organization: string, project: string) => string;
  readonly templates: Readonly<Record<EmailTemplateName, TemplateText>>;
  /** "This link expires in 10 minutes…" */
  readonly linkExpires: (duration: string) => string;
  readonly codeExpires: (duration: string) => string;
  /** Above the link in full, for mail clients that show no button. */
  readonly copyLink: string;
  readonly ignore: string;
  /** Singular and plural of each unit. */
  readonly units: { readonly minute: readonly [string, string]; readonly hour: readonly [string, string]; readonly day: readonly [string, string] };
  /** impersonation_started: the facts' labels and the closing line. */
  readonly impersonation: ImpersonationText;
}

export interface ImpersonationText {
  readonly who: string;
  readonly member: string;
  readonly why: string;
  readonly started: string;
  readonly until: string;
  readonly restrictions: string;
  readonly readOnly: string;
  /** Said of the impersonator when an admin of the organization itself impersonates (delegated). */
  readonly delegated: (emailAddress: string) => string;
  /** Before the end link (to the member only). */
  readonly endIntro: string;
  /** Instead of "ignore this email": the email is a notice, not an answer to something the reader did. */
  readonly closing: string;
}

const en: LocaleText = {
  place: (organization, project) => `${organization} on ${project}`,
  templates: {
    login: { subject: (w) => `Your sign-in link for ${w.place}`, intro: (w) => `Use the link below to sign in to ${w.place}.`, action: 'Sign in' },
    signup: { subject: (w) => `Finish signing up for ${w.place}`, intro: (w) => `Use the link below to finish creating your account in ${w.place}.`, action: 'Finish signing up' },
    invite: {
      subject: (w) => (w.inviter ? `${w.inviter} invited you to join ${w.place}` : `You are invited to join ${w.place}`),
      intro: (w) => (w.inviter ? `${w.inviter} invited you to join ${w.place}.` : `You have been invited to join ${w.place}.`),
      action: 'Accept the invitation',
    },
    discovery: {
      subject: (w) => `Your sign-in link for ${w.project}`,
      intro: (w) => `Use the link below to continue signing in to ${w.project}. You will then choose an organization.`,
      action: 'Continue',
    },
    otp_login: { subject: (w) => `Your sign-in code for ${w.place}`, intro: (w) => `Enter this code to sign in to ${w.place}:` },
    otp_signup: { subject: (w) => `Your sign-up code for ${w.place}`, intro: (w) => `Enter this code to finish signing up for ${w.place}:` },
    otp_discovery: { subject: (w) => `Your sign-in code for ${w.project}`, intro: (w) => `Enter this code to continue signing in to ${w.project}:` },
    // Discovery's reset names no organization: its place is the project.
    reset_password: {
      subject: (w) => `Reset your password for ${w.place}`,
      intro: (w) => `Use the link below to choose a new password for ${w.place}.`,
      action: 'Reset password',
      alternative: { intro: (w) => `Or sign in to ${w.place} without a password:`, action: 'Sign in without a password' },
    },
    discovery_reset_password: {
      subject: (w) => `Choose a new password for ${w.place}`,
      intro: (w) => `Use the link below to choose a new password for ${w.place}. It will apply in every organization you belong to.`,
      action: 'Choose a password',
      alternative: { intro: (w) => `Or continue to ${w.place} without a password:`, action: 'Continue without a password' },
    },
    impersonation_started: {
      subject: (w) => `An impersonation started in ${w.place}`,
      intro: (w) => (w.member === undefined ? `${w.impersonator ?? 'Someone'} is now signed in to ${w.place} as you, for support.` : `${w.impersonator ?? 'Someone'} is now signed in to ${w.place} as ${w.member}, for support.`),
      action: 'End this impersonation',
    },
  },
  linkExpires: (d) => `This link expires in ${d} and works only once.`,
  codeExpires: (d) => `This code expires in ${d}.`,
  copyLink: 'Or copy this link into your browser:',
  ignore: 'If you did not ask for this email, you can ignore it.',
  units: { minute: ['minute', 'minutes'], hour: ['hour', 'hours'], day: ['day', 'days'] },
  impersonation: {
    who: 'Who',
    member: 'Acting as',
    why: 'Why',
    started: 'Started',
    until: 'Ends at the latest',
    restrictions: 'Restricted to',
    readOnly: 'reading only',
    delegated: (emailAddress) => `${emailAddress}, an administrator of your organization`,
    endIntro: 'If you did not expect this, you can end it now:',
    closing: 'Every step of an impersonation is recorded in your organization’s audit trail.',
  },
};

const es: LocaleText = {
  place: (organization, project) => `${organization} en ${project}`,
  templates: {
    login: { subject: (w) => `Tu enlace para iniciar sesión en ${w.place}`, intro: (w) => `Usa el enlace de abajo para iniciar sesión en ${w.place}.`, action: 'Iniciar sesión' },
    signup: { subject: (w) => `Termina de registrarte en ${w.place}`, intro: (w) => `Usa el enlace de abajo para terminar de crear tu cuenta en ${w.place}.`, action: 'Terminar el registro' },
    invite: {
      subject: (w) => (w.inviter ? `${w.inviter} te invitó a unirte a ${w.place}` : `Te invitaron a unirte a ${w.place}`),
      intro: (w) => (w.inviter ? `${w.inviter} te invitó a unirte a ${w.place}.` : `Te invitaron a unirte a ${w.place}.`),
      action: 'Aceptar la invitación',
    },
    discovery: {
      subject: (w) => `Tu enlace para iniciar sesión en ${w.project}`,
      intro: (w) => `Usa el enlace de abajo para continuar iniciando sesión en ${w.project}. Después elegirás una organización.`,
      action: 'Continuar',
    },
    otp_login: { subject: (w) => `Tu código para iniciar sesión en ${w.place}`, intro: (w) => `Introduce este código para iniciar sesión en ${w.place}:` },
    otp_signup: { subject: (w) => `Tu código de registro en ${w.place}`, intro: (w) => `Introduce este código para terminar de registrarte en ${w.place}:` },
    otp_discovery: { subject: (w) => `Tu código para iniciar sesión en ${w.project}`, intro: (w) => `Introduce este código para continuar iniciando sesión en ${w.project}:` },
    reset_password: {
      subject: (w) => `Restablece tu contraseña de ${w.place}`,
      intro: (w) => `Usa el enlace de abajo para elegir una nueva contraseña para ${w.place}.`,
      action: 'Restablecer la contraseña',
      alternative: { intro: (w) => `O inicia sesión en ${w.place} sin contraseña:`, action: 'Iniciar sesión sin contraseña' },
    },
    discovery_reset_password: {
      subject: (w) => `Elige una nueva contraseña para ${w.place}`,
      intro: (w) => `Usa el enlace de abajo para elegir una nueva contraseña para ${w.place}. Servirá en todas tus organizaciones.`,
      action: 'Elegir la contraseña',
      alternative: { intro: (w) => `O continúa en ${w.place} sin contraseña:`, action: 'Continuar sin contraseña' },
    },
    impersonation_started: {
      subject: (w) => `Comenzó una suplantación en ${w.place}`,
      intro: (w) => (w.member === undefined ? `${w.impersonator ?? 'Alguien'} inició sesión en ${w.place} como tú, para darte soporte.` : `${w.impersonator ?? 'Alguien'} inició sesión en ${w.place} como ${w.member}, para dar soporte.`),
      action: 'Terminar esta suplantación',
    },
  },
  linkExpires: (d) => `Este enlace caduca en ${d} y solo se puede usar una vez.`,
  codeExpires: (d) => `Este código caduca en ${d}.`,
  copyLink: 'O copia este enlace en tu navegador:',
  ignore: 'Si no solicitaste este correo, puedes ignorarlo.',
  units: { minute: ['minuto', 'minutos'], hour: ['hora', 'horas'], day: ['día', 'días'] },
  impersonation: {
    who: 'Quién',
    member: 'Actuando como',
    why: 'Motivo',
    started: 'Inicio',
    until: 'Termina a más tardar',
    restrictions: 'Limitado a',
    readOnly: 'solo lectura',
    delegated: (emailAddress) => `${emailAddress}, administrador de tu organización`,
    endIntro: 'Si no lo esperabas, puedes terminarla ahora:',
    closing: 'Cada paso de una suplantación queda registrado en el historial de auditoría de tu organización.',
  },
};

const ptBr: LocaleText = {
  place: (organization, project) => `${organization} no ${project}`,
  templates: {
    login: { subject: (w) => `Seu link para entrar em ${w.place}`, intro: (w) => `Use o link abaixo para entrar em ${w.place}.`, action: 'Entrar' },
    signup: { subject: (w) => `Conclua seu cadastro em ${w.place}`, intro: (w) => `Use o link abaixo para concluir a criação da sua conta em ${w.place}.`, action: 'Concluir cadastro' },
    invite: {
      subject: (w) => (w.inviter ? `${w.inviter} convidou você para participar de ${w.place}` : `Você recebeu um convite para participar de ${w.place}`),
      intro: (w) => (w.inviter ? `${w.inviter} convidou você para participar de ${w.place}.` : `Você recebeu um convite para participar de ${w.place}.`),
      action: 'Aceitar convite',
    },
    discovery: {
      subject: (w) => `Seu link para entrar em ${w.project}`,
      intro: (w) => `Use o link abaixo para continuar entrando em ${w.project}. Depois você escolherá uma organização.`,
      action: 'Continuar',
    },
    otp_login: { subject: (w) => `Seu código para entrar em ${w.place}`, intro: (w) => `Digite este código para entrar em ${w.place}:` },
    otp_signup: { subject: (w) => `Seu código de cadastro em ${w.place}`, intro: (w) => `Digite este código para concluir seu cadastro em ${w.place}:` },
    otp_discovery: { subject: (w) => `Seu código para entrar em ${w.project}`, intro: (w) => `Digite este código para continuar entrando em ${w.project}:` },
    reset_password: {
      subject: (w) => `Redefina sua senha de ${w.place}`,
      intro: (w) => `Use o link abaixo para escolher uma nova senha para ${w.place}.`,
      action: 'Redefinir senha',
      alternative: { intro: (w) => `Ou entre em ${w.place} sem senha:`, action: 'Entrar sem senha' },
    },
    discovery_reset_password: {
      subject: (w) => `Escolha uma nova senha para ${w.place}`,
      intro: (w) => `Use o link abaixo para escolher uma nova senha para ${w.place}. Ela valerá em todas as suas organizações.`,
      action: 'Escolher senha',
      alternative: { intro: (w) => `Ou continue em ${w.place} sem senha:`, action: 'Continuar sem senha' },
    },
    impersonation_started: {
      subject: (w) => `Uma personificação começou em ${w.place}`,
      intro: (w) => (w.member === undefined ? `${w.impersonator ?? 'Alguém'} entrou em ${w.place} como você, para dar suporte.` : `${w.impersonator ?? 'Alguém'} entrou em ${w.place} como ${w.member}, para dar suporte.`),
      action: 'Encerrar esta personificação',
    },
  },
  linkExpires: (d) => `Este link expira em ${d} e só pode ser usado uma vez.`,
  codeExpires: (d) => `Este código expira em ${d}.`,
  copyLink: 'Ou copie este link no seu navegador:',
  ignore: 'Se você não pediu este e-mail, pode ignorá-lo.',
  units: { minute: ['minuto', 'minutos'], hour: ['hora', 'horas'], day: ['dia', 'dias'] },
  impersonation: {
    who: 'Quem',
    member: 'Agindo como',
    why: 'Motivo',
    started: 'Início',
    until: 'Termina no máximo em',
    restrictions: 'Limitado a',
    readOnly: 'somente leitura',
    delegated: (emailAddress) => `${emailAddress}, administrador da sua organização`,
    endIntro: 'Se você não esperava isso, pode encerrá-la agora:',
    closing: 'Cada passo de uma personificação fica registrado na trilha de auditoria da sua organização.',
  },
};

const fr: LocaleText = {
  place: (organization, project) => `${organization} sur ${project}`,
  templates: {
    login: { subject: (w) => `Votre lien de connexion à ${w.place}`, intro: (w) => `Utilisez le lien ci-dessous pour vous connecter à ${w.place}.`, action: 'Se connecter' },
    signup: { subject: (w) => `Terminez votre inscription à ${w.place}`, intro: (w) => `Utilisez le lien ci-dessous pour terminer votre inscription à ${w.place}.`, action: "Terminer l'inscription" },
    invite: {
      subject: (w) => (w.inviter ? `${w.inviter} vous invite à rejoindre ${w.place}` : `Vous êtes invité à rejoindre ${w.place}`),
      intro: (w) => (w.inviter ? `${w.inviter} vous invite à rejoindre ${w.place}.` : `Vous êtes invité à rejoindre ${w.place}.`),
      action: "Accepter l'invitation",
    },
    discovery: {
      subject: (w) => `Votre lien de connexion à ${w.project}`,
      intro: (w) => `Utilisez le lien ci-dessous pour poursuivre votre connexion à ${w.project}. Vous choisirez ensuite une organisation.`,
      action: 'Continuer',
    },
    otp_login: { subject: (w) => `Votre code de connexion à ${w.place}`, intro: (w) => `Saisissez ce code pour vous connecter à ${w.place} :` },
    otp_signup: { subject: (w) => `Votre code d'inscription à ${w.place}`, intro: (w) => `Saisissez ce code pour terminer votre inscription à ${w.place} :` },
    otp_discovery: { subject: (w) => `Votre code de connexion à ${w.project}`, intro: (w) => `Saisissez ce code pour poursuivre votre connexion à ${w.project} :` },
    reset_password: {
      subject: (w) => `Réinitialisez votre mot de passe pour ${w.place}`,
      intro: (w) => `Utilisez le lien ci-dessous pour choisir un nouveau mot de passe pour ${w.place}.`,
      action: 'Réinitialiser le mot de passe',
      alternative: { intro: (w) => `Ou connectez-vous à ${w.place} sans mot de passe :`, action: 'Se connecter sans mot de passe' },
    },
    discovery_reset_password: {
      subject: (w) => `Choisissez un nouveau mot de passe pour ${w.place}`,
      intro: (w) => `Utilisez le lien ci-dessous pour choisir un nouveau mot de passe pour ${w.place}. Il vaudra dans toutes vos organisations.`,
      action: 'Choisir un mot de passe',
      alternative: { intro: (w) => `Ou poursuivez vers ${w.place} sans mot de passe :`, action: 'Continuer sans mot de passe' },
    },
    impersonation_started: {
      subject: (w) => `Une usurpation d'identité a commencé sur ${w.place}`,
      intro: (w) => (w.member === undefined ? `${w.impersonator ?? "Quelqu'un"} est connecté à ${w.place} en votre nom, pour le support.` : `${w.impersonator ?? "Quelqu'un"} est connecté à ${w.place} au nom de ${w.member}, pour le support.`),
      action: 'Mettre fin à cette session',
    },
  },
  linkExpires: (d) => `Ce lien expire dans ${d} et ne fonctionne qu'une fois.`,
  codeExpires: (d) => `Ce code expire dans ${d}.`,
  copyLink: 'Ou copiez ce lien dans votre navigateur :',
  ignore: "Si vous n'avez pas demandé cet e-mail, vous pouvez l'ignorer.",
  units: { minute: ['minute', 'minutes'], hour: ['heure', 'heures'], day: ['jour', 'jours'] },
  impersonation: {
    who: 'Qui',
    member: 'Au nom de',
    why: 'Motif',
    started: 'Début',
    until: 'Fin au plus tard',
    restrictions: 'Limité à',
    readOnly: 'lecture seule',
    delegated: (emailAddress) => `${emailAddress}, administrateur de votre organisation`,
    endIntro: "Si vous ne vous y attendiez pas, vous pouvez y mettre fin maintenant :",
    closing: "Chaque étape d'une usurpation d'identité est enregistrée dans le journal d'audit de votre organisation.",
  },
};

/** Every template's wording in every locale Stytch accepts. */
export const CATALOG: Readonly<Record<EmailLocale, LocaleText>> = { en, es, 'pt-br': ptBr, fr };
